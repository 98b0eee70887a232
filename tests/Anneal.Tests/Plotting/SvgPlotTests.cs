using System.Xml.Linq;
using Anneal.Plotting;

namespace Anneal.Tests.Plotting;

public sealed class AxisTicksTests
{
    // Hand-computed: raw step 0.97/5 = 0.194 -> nice 0.2; floor(0/0.2)=0, ceil(0.97/0.2)=5.
    [Fact]
    public void Range_0_to_0_97_gives_0_to_1_by_0_2()
    {
        AxisTicks.Linear(0, 0.97).ShouldBe([0, 0.2, 0.4, 0.6, 0.8, 1.0]);
    }

    // Hand-computed: 23920-2160 = 21760, /5 = 4352 -> 5000; floor(2160/5000)=0, ceil(23920/5000)=5.
    [Fact]
    public void Step_axis_2160_to_23920_uses_5000()
    {
        AxisTicks.Linear(2160, 23920).ShouldBe([0, 5000, 10000, 15000, 20000, 25000]);
    }

    // Hand-computed: (3.5563-2.7396)/5 = 0.163 -> 0.2; floor(2.7396/0.2)=13 -> 2.6, ceil(3.5563/0.2)=18 -> 3.6.
    [Fact]
    public void Loss_axis_uses_0_2_and_exact_decimals()
    {
        AxisTicks.Linear(2.7396, 3.5563).ShouldBe([2.6, 2.8, 3.0, 3.2, 3.4, 3.6]);
    }

    // Hand-computed: 3e-4/5 = 6e-5 -> 1e-4 (6 > 5 goes to 10 x 1e-5).
    [Fact]
    public void Small_lr_range_and_negative_range()
    {
        AxisTicks.Linear(0, 3e-4).ShouldBe([0, 1e-4, 2e-4, 3e-4]);
        AxisTicks.Linear(-1, 1).ShouldBe([-1, -0.5, 0, 0.5, 1]);
        AxisTicks.NiceStep(0.194).ShouldBe((2, -1));
        AxisTicks.NiceStep(1000).ShouldBe((1, 3));
        AxisTicks.NiceStep(4.1).ShouldBe((5, 0));
        AxisTicks.NiceStep(5.1).ShouldBe((1, 1));
    }

    [Fact]
    public void Degenerate_range_is_widened_around_the_value()
    {
        var t = AxisTicks.Linear(3, 3);
        t[0].ShouldBeLessThan(3);
        t[^1].ShouldBeGreaterThan(3);
    }

    [Fact]
    public void Log_ticks_at_decades_with_2_to_9_minor()
    {
        var (major, minor) = AxisTicks.Log(1, 33907);
        major.ShouldBe([1, 10, 100, 1000, 10000]);
        minor.Length.ShouldBe(8 * 4 + 2); // 2..9 in four decades plus 20000 and 30000
        minor.ShouldContain(20000);
        minor.ShouldContain(30000);
        minor.ShouldNotContain(40000);
        var (m2, _) = AxisTicks.Log(1e-5, 1e-3);
        m2.ShouldBe([1e-5, 1e-4, 1e-3]);
    }

    // Hand-computed: [2160, 72000] holds only the decade 10^4, so label 1-2-5 multiples inside it.
    [Fact]
    public void One_and_a_half_decades_get_1_2_5_labels()
    {
        var (major, minor) = AxisTicks.Log(2160, 72000);
        major.ShouldBe([5000, 10000, 20000, 50000]);
        minor.ShouldContain(3000);
        minor.ShouldNotContain(5000);
        minor.ShouldContain(70000);
    }

    [Fact]
    public void Narrow_log_range_falls_back_to_nice_linear_ticks()
    {
        var (major, minor) = AxisTicks.Log(2.7, 3.5);
        major.ShouldBe([2.8, 3.0, 3.2, 3.4]);
        minor.ShouldBeEmpty();
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(0.6, "0.6")]
    [InlineData(25000.0, "25000")]
    [InlineData(3e-4, "3e-4")]
    [InlineData(2.5e-5, "2.5e-5")]
    [InlineData(1e7, "1e7")]
    [InlineData(-0.5, "-0.5")]
    public void Labels_are_short(double v, string text) => AxisTicks.Format(v).ShouldBe(text);
}

public sealed class SvgPlotTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static XDocument Parse(SvgPlot p) => XDocument.Parse(p.Render());

    private static IEnumerable<XElement> Class(XDocument d, string cls) => d.Descendants().Where(e => (string?)e.Attribute("class") == cls);

    [Fact]
    public void Lines_markers_bands_and_legend_are_counted()
    {
        var x = Enumerable.Range(0, 50).Select(i => (double)i).ToArray();
        var y = x.Select(v => 3 + 1 / (1 + v)).ToArray();
        var p = new SvgPlot { Title = "loss & <lr>", XLabel = "step", YLabel = "loss", Y2Label = "lr" };
        p.AddMarkers("observed", x, y);
        p.AddLine("fit", x, y);
        p.AddBand("90%", x, y.Select(v => v - 0.1).ToArray(), y.Select(v => v + 0.1).ToArray());
        p.AddLine("lr", x, x.Select(v => 1e-3 * (1 - v / 60)).ToArray(), secondAxis: true);
        var d = Parse(p);
        d.Root!.Name.ShouldBe(Svg + "svg");
        Class(d, "series-markers").Single().Elements(Svg + "circle").Count().ShouldBe(50);
        Class(d, "series-line").SelectMany(g => g.Elements(Svg + "polyline")).Count().ShouldBe(2);
        Class(d, "series-band").Single().Elements(Svg + "path").Count().ShouldBe(1);
        Class(d, "legend-entry").Count().ShouldBe(4);
        Class(d, "legend-entry").Select(e => e.Value).ShouldBe(["observed", "fit", "90%", "lr (right axis)"]);
        Class(d, "title").Single().Value.ShouldBe("loss & <lr>");
        Class(d, "y2-ticks").Single().Elements(Svg + "text").Count().ShouldBeGreaterThan(2);
        Class(d, "y2-label").Single().Value.ShouldBe("lr");
        p.Render().ShouldContain("loss &amp; &lt;lr&gt;");
    }

    [Fact]
    public void Tick_labels_follow_the_nice_tick_algorithm()
    {
        var p = new SvgPlot();
        p.AddLine("a", [0, 0.5, 0.97], [2.7396, 3.0, 3.5563]);
        var d = Parse(p);
        Class(d, "x-ticks").Single().Elements(Svg + "text").Select(t => t.Value).ShouldBe(["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        Class(d, "y-ticks").Single().Elements(Svg + "text").Select(t => t.Value).ShouldBe(["2.6", "2.8", "3", "3.2", "3.4", "3.6"]);
    }

    [Fact]
    public void Log_axes_put_labels_at_decades()
    {
        var x = Enumerable.Range(1, 10000).Select(i => (double)i).ToArray();
        var p = new SvgPlot { LogX = true, LogY = true };
        p.AddLine("power law", x, x.Select(v => 10 * Math.Pow(v, -0.5)).ToArray());
        var d = Parse(p);
        Class(d, "x-ticks").Single().Elements(Svg + "text").Select(t => t.Value).ShouldBe(["1", "10", "100", "1000", "10000"]);
        // y runs from 10 * 1^-0.5 = 10 down to 10 * 10000^-0.5 = 0.1.
        Class(d, "y-ticks").Single().Elements(Svg + "text").Select(t => t.Value).ShouldBe(["0.1", "1", "10"]);
        Class(d, "minor-ticks").Single().Elements(Svg + "line").Count().ShouldBeGreaterThan(30);
    }

    [Fact]
    public void NaN_breaks_a_line_into_segments_and_non_positive_values_on_log_axes_too()
    {
        var p = new SvgPlot();
        p.AddLine("a", [0, 1, 2, 3, 4, 5, 6], [1, 2, double.NaN, 3, 4, double.NaN, 5]);
        // 1 point after the last NaN cannot make a line: two polylines.
        Class(Parse(p), "series-line").Single().Elements(Svg + "polyline").Count().ShouldBe(2);
        var q = new SvgPlot { LogY = true };
        q.AddLine("b", [0, 1, 2, 3, 4], [1, 2, 0, 3, 4]);
        Class(Parse(q), "series-line").Single().Elements(Svg + "polyline").Count().ShouldBe(2);
    }

    [Fact]
    public void Long_series_are_thinned_but_keep_their_extremes()
    {
        int n = 100_000;
        var x = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        var y = x.Select(v => Math.Sin(v / 1000)).ToArray();
        y[54321] = 5; // a spike must survive thinning
        var p = new SvgPlot { YMin = -1, YMax = 6 };
        p.AddLine("noisy", x, y);
        p.AddMarkers("obs", x, y);
        var svg = p.Render();
        var d = XDocument.Parse(svg);
        var pts = Class(d, "series-line").Single().Element(Svg + "polyline")!.Attribute("points")!.Value.Split(' ');
        pts.Length.ShouldBeLessThanOrEqualTo(2000);
        pts.Length.ShouldBeGreaterThan(1000);
        Class(d, "series-markers").Single().Elements(Svg + "circle").Count().ShouldBeLessThanOrEqualTo(1000);
        // y = 5 on an axis 0..6 spanning the plot: the spike is the smallest pixel y of the line.
        var minPix = pts.Min(s => double.Parse(s.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture));
        var frame = Class(d, "frame").Single();
        double top = double.Parse(frame.Attribute("y")!.Value, System.Globalization.CultureInfo.InvariantCulture);
        double h = double.Parse(frame.Attribute("height")!.Value, System.Globalization.CultureInfo.InvariantCulture);
        // axis fixed to [-1, 6]: y=5 lies 1/7 of the height below the top.
        minPix.ShouldBe(top + h * (1.0 / 7), 0.2);
        svg.Length.ShouldBeLessThan(200_000);
    }

    [Fact]
    public void Series_with_the_same_name_share_a_colour_and_bands_take_the_next_series_colour()
    {
        var p = new SvgPlot();
        p.AddBand("band", [0, 1], [0, 0], [1, 1]);
        p.AddMarkers("a", [0, 1], [0.5, 0.6]);
        p.AddLine("a", [0, 1], [0.5, 0.6]);
        p.AddLine("b", [0, 1], [0.2, 0.3]);
        var d = Parse(p);
        var band = (string)Class(d, "series-band").Single().Attribute("fill")!;
        var mark = (string)Class(d, "series-markers").Single().Attribute("fill")!;
        var lines = Class(d, "series-line").Select(g => (string)g.Attribute("stroke")!).ToArray();
        band.ShouldBe(SvgPlot.Palette[0]);
        mark.ShouldBe(SvgPlot.Palette[0]);
        lines.ShouldBe([SvgPlot.Palette[0], SvgPlot.Palette[1]]);
    }

    [Fact]
    public void Hostile_names_stay_well_formed_xml()
    {
        var p = new SvgPlot { Title = "a\u0001b </svg> & \"q\"", XLabel = "x'", YLabel = "<y>" };
        p.AddLine("run <1> & \"2\"\n", [0, 1], [0, 1]);
        var d = Parse(p);
        Class(d, "title").Single().Value.ShouldBe("a b </svg> & \"q\"");
        Class(d, "legend-entry").Single().Value.ShouldBe("run <1> & \"2\" ");
        Class(d, "y-label").Single().Value.ShouldBe("<y>");
    }

    [Fact]
    public void Empty_plot_still_renders_and_mismatched_lengths_throw()
    {
        Parse(new SvgPlot { Title = "nothing" }).Root!.Name.ShouldBe(Svg + "svg");
        Should.Throw<ArgumentException>(() => new SvgPlot().AddLine("x", [1, 2], [1]));
    }

    [Fact]
    public void Save_writes_the_file_atomically()
    {
        var path = Path.Combine(Path.GetTempPath(), "anneal-svg-" + Guid.NewGuid().ToString("N") + ".svg");
        try
        {
            var p = new SvgPlot();
            p.AddLine("a", [0, 1], [0, 1]);
            p.Save(path);
            XDocument.Load(path).Root!.Name.ShouldBe(Svg + "svg");
            Directory.GetFiles(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + "*").ShouldBeEmpty();
        }
        finally { File.Delete(path); }
    }
}

public class SvgPlotFitYTests
{
    [Fact]
    public void An_exploding_band_widens_the_range_by_at_most_one_core_span()
    {
        // Closed form: core [2, 3] (span 1); a band of [-300, 300] may extend to [1, 4]; padding 4% of 3.
        var plot = new Anneal.Plotting.SvgPlot();
        plot.FitY([[2.0, 3.0]], [[-300.0], [300.0]]);
        plot.YMin!.Value.ShouldBe(1 - 0.12, 1e-12);
        plot.YMax!.Value.ShouldBe(4 + 0.12, 1e-12);
    }

    [Fact]
    public void A_modest_band_is_shown_whole()
    {
        var plot = new Anneal.Plotting.SvgPlot();
        plot.FitY([[2.0, 3.0]], [[1.8], [3.1]]);
        plot.YMin!.Value.ShouldBe(1.8 - 0.04 * 1.3, 1e-12);
        plot.YMax!.Value.ShouldBe(3.1 + 0.04 * 1.3, 1e-12);
    }
}
