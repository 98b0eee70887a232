using static Anneal.Tests.Cli.CliRunner;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Anneal.Schedules;
using Anneal.Tests.Curves;

namespace Anneal.Tests.Cli;

[Collection("Console")] // the serial collection of the in-process CLI tests
public sealed class CurveCliTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();


    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    private static string Mpl(string f) => TestPaths.Mpl("400m", f);

    [Fact]
    public void Info_prints_a_table_per_file_and_warns_about_interpolated_lr()
    {
        var (code, stdout, stderr) = Run("curve", "info", Mpl("cosine_24000.csv"), Mpl("wsdcon_3.csv"));
        code.ShouldBe(0, stderr);
        stdout.ShouldContain("171 (steps 2160..23920)");
        stdout.ShouldContain("128 steps");
        stdout.ShouldContain("cosine-like");
        stdout.ShouldContain("step-wise (decay from step 8000)");
        stdout.ShouldContain("3.0009e-5 .. 0.0003"); // min logged LR 3.000893868085248e-05 to 5 digits
        stdout.ShouldContain("2.7396"); // final loss, tail -1 of the file
        stderr.ShouldContain("warning:");
        stderr.ShouldContain("interpolated");
    }

    [Fact]
    public void Info_json_is_machine_readable()
    {
        var (code, stdout, _) = Run("curve", "info", "--json", Mpl("wsd_20000_24000.csv") + "@wsd(peak=3e-4, total=24000, warmup=2160, decay_steps=4000, shape=exponential, min=3e-5)");
        code.ShouldBe(0);
        var doc = JsonNode.Parse(stdout)!;
        ((string)doc["format"]!).ShouldBe("anneal-curve-info/1");
        var o = doc["curves"]!.AsArray().Single()!;
        ((string)o["shape"]!).ShouldBe("wsd");
        ((long)o["last_step"]!).ShouldBe(23936);
        ((bool)o["lr_interpolated"]!).ShouldBeFalse();
        ((string)o["schedule"]!).ShouldStartWith("wsd(");
    }

    [Fact]
    public void Plot_writes_a_well_formed_svg_with_one_series_per_curve_and_lr_lines()
    {
        var svg = _tmp.Combine("loss.svg");
        var (code, stdout, stderr) = Run("curve", "plot", Mpl("cosine_24000.csv"), Mpl("constant_24000.csv") + "@constant(peak=3e-4, warmup=2160)", "--lr", "--svg", svg);
        code.ShouldBe(0, stderr);
        stdout.ShouldContain("wrote");
        var d = XDocument.Load(svg);
        var markers = d.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "series-markers").ToList();
        markers.Count.ShouldBe(2);
        markers[0].Elements(Svg + "circle").Count().ShouldBe(171);
        d.Descendants(Svg + "g").Count(g => (string?)g.Attribute("class") == "series-line").ShouldBe(2);
        d.Descendants(Svg + "g").Count(g => (string?)g.Attribute("class") == "legend-entry").ShouldBe(4);
        // Only the file without a spec has interpolated LR.
        stderr.ShouldContain("cosine_24000.csv: LR not logged");
        stderr.ShouldNotContain("constant_24000.csv: LR not logged");
    }

    [Fact]
    public void Curves_with_the_same_file_name_are_told_apart_by_folder()
    {
        var svg = _tmp.Combine("sizes.svg");
        var a = TestPaths.Mpl("25m", "cosine_24000.csv");
        var b = TestPaths.Mpl("400m", "cosine_24000.csv");
        Run("curve", "plot", a, b, "--svg", svg).Code.ShouldBe(0);
        XDocument.Load(svg).Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "legend-entry").Select(g => g.Value)
            .ShouldBe(["25m/cosine_24000", "400m/cosine_24000"]);
    }

    [Fact]
    public void Plot_of_a_bad_file_exits_2_names_file_and_line_and_writes_nothing()
    {
        var bad = _tmp.File("bad.csv", "step,lr,loss\n0,1e-3,4\n10,1e-3,nan\n");
        var svg = _tmp.Combine("out.svg");
        var (code, _, stderr) = Run("curve", "plot", Mpl("cosine_24000.csv"), bad, "--svg", svg);
        code.ShouldBe(2);
        stderr.ShouldStartWith($"error: {bad}:3: column 'loss'");
        stderr.ShouldNotContain("   at ");
        File.Exists(svg).ShouldBeFalse();
        Directory.GetFiles(_tmp.Path, "*.tmp").ShouldBeEmpty();
    }

    [Fact]
    public void Plot_with_a_bad_spec_or_missing_val_exits_2()
    {
        var svg = _tmp.Combine("o.svg");
        var (c1, _, e1) = Run("curve", "plot", Mpl("cosine_24000.csv") + "@cosine(peak=3e-4)", "--svg", svg);
        c1.ShouldBe(2);
        e1.ShouldContain("total");
        var (c2, _, e2) = Run("curve", "plot", Mpl("cosine_24000.csv"), "--target", "val", "--svg", svg);
        c2.ShouldBe(2);
        e2.ShouldContain("no validation loss");
        File.Exists(svg).ShouldBeFalse();
    }

    [Fact]
    public void Curve_reader_messages_name_the_options_of_the_command_that_read_the_file()
    {
        // The readers name their read options as parameters (stop_at_nonfinite, step_col: CurveReaderCsvTests); each
        // command shows its own option for them (OptionNames), in errors and in notes alike.
        var diverged = _tmp.File("diverged.csv", "step,lr,loss\n0,1e-3,3.0\n1,1e-3,nan\n");
        var (code, _, err) = Run("curve", "info", diverged);
        code.ShouldBe(2, err);
        err.ShouldContain("read the rows before it with --stop-at-nonfinite");
        (code, _, err) = Run("fit", diverged);
        code.ShouldBe(2, err);
        err.ShouldContain("read the rows before it with --stop-at-nonfinite");
        var wandb = _tmp.File("wandb.csv", "_step,lr,loss\n0,1e-3,3.0\n1,1e-3,2.9\n");
        (code, _, err) = Run("curve", "info", wandb);
        code.ShouldBe(0, err);
        err.ShouldContain("give it with --step-col NAME");
        err.ShouldNotContain("step_col");
    }

    [Fact]
    public void Column_options_reach_the_reader()
    {
        var f = _tmp.File("odd.csv", "t,objective\n0,4\n5,3\n");
        var (code, _, err) = Run("curve", "info", f);
        code.ShouldBe(2);
        err.ShouldContain("--step-col");
        var (ok, stdout, _) = Run("curve", "info", f, "--step-col", "t", "--loss-col", "objective");
        ok.ShouldBe(0);
        stdout.ShouldContain("2 (steps 0..5)");
    }

    [Fact]
    public void Convert_writes_csv_that_reads_back()
    {
        var src = _tmp.File("h.json", """{"history": {"train": {"iter": [0, 10], "train_lr": [1e-3, 5e-4], "train_loss": [4.5, 3.25]}, "val": {"iter": [10], "val_loss": [3.5]}}}""");
        var dst = _tmp.Combine("h.csv");
        Run("curve", "convert", src, "--out", dst).Code.ShouldBe(0);
        File.ReadAllText(dst).ShouldBe("step,lr,loss,val_loss\n0,0.001,4.5,\n10,0.0005,3.25,3.5\n");
    }

    [Fact]
    public void Schedule_plot_overlays_specs_and_writes_csv_equal_to_the_schedules()
    {
        var svg = _tmp.Combine("s.svg");
        var csv = _tmp.Combine("s.csv");
        const string a = "cosine(peak=3e-4, total=1000, warmup=100, min=3e-5)", b = "wsd(peak=3e-4, total=1000, warmup=100, decay=0.2)";
        var (code, _, err) = Run("schedule", "plot", a, b, "--steps", "1000", "--svg", svg, "--csv", csv);
        code.ShouldBe(0, err);
        var d = XDocument.Load(svg);
        d.Descendants(Svg + "polyline").Count().ShouldBe(2);
        d.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "legend-entry").Select(g => g.Value)
            .ShouldBe([Schedule.Parse(a).Spec, Schedule.Parse(b).Spec]);
        var lines = File.ReadAllLines(csv);
        lines.Length.ShouldBe(1001);
        var sa = Schedule.Parse(a).Sample(1000);
        var sb = Schedule.Parse(b).Sample(1000);
        foreach (int i in new[] { 0, 50, 100, 555, 999 })
        {
            var cells = lines[i + 1].Split(',');
            double.Parse(cells[1], CultureInfo.InvariantCulture).ShouldBe(sa[i]);
            double.Parse(cells[2], CultureInfo.InvariantCulture).ShouldBe(sb[i]);
        }
    }

    [Fact]
    public void Plot_validation_loss_from_a_wandb_history()
    {
        var src = _tmp.File("h.json", """{"history": {"train": {"iter": [0, 10, 20, 30], "train_loss": [4.5, 3.25, 3.0, 2.9]}, "val": {"iter": [10, 30], "val_loss": [3.5, 3.1]}}}""");
        var svg = _tmp.Combine("v.svg");
        var (code, _, err) = Run("curve", "plot", src, "--target", "val", "--style", "line", "--svg", svg);
        code.ShouldBe(0, err);
        // The two evaluated steps are joined by one line of two points.
        var pts = XDocument.Load(svg).Descendants(Svg + "polyline").Single().Attribute("points")!.Value.Split(' ');
        pts.Length.ShouldBe(2);
    }

    [Fact]
    public void Schedule_plot_beyond_points_uses_evenly_spaced_steps()
    {
        var csv = _tmp.Combine("big.csv");
        var (code, _, err) = Run("schedule", "plot", "linear(peak=1, total=3000000)", "--steps", "3000000", "--points", "1000", "--csv", csv);
        code.ShouldBe(0, err);
        err.ShouldContain("evenly spaced");
        var lines = File.ReadAllLines(csv);
        lines.Length.ShouldBe(1 + 1000);
        lines[^1].ShouldStartWith("2999999,"); // the last step is always included
        // linear(peak=1, total=T) at step t is 1 - t/T (docs/schedules.md): 1/3000000 at the last step.
        double.Parse(lines[^1].Split(',')[1], CultureInfo.InvariantCulture).ShouldBe(1.0 / 3000000, 1e-15);
    }

    [Fact]
    public void Schedule_plot_with_a_bad_spec_exits_2_and_writes_nothing()
    {
        var svg = _tmp.Combine("s.svg");
        var (code, _, err) = Run("schedule", "plot", "cosine(peak=3e-4, total=1000)", "cosine(peak=3e-4, totl=1000)", "--steps", "1000", "--svg", svg);
        code.ShouldBe(2);
        err.ShouldStartWith("error:");
        File.Exists(svg).ShouldBeFalse();
    }
}
