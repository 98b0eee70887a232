using System.Text;
using Anneal.Curves;

namespace Anneal.Tests.Curves;

/// <summary>Content that is not UTF-8 text is refused up front with what it looks like (issue 12, defect 8), never echoed back.</summary>
public class CurveReaderNonTextTests
{
    private static string Refused(byte[] content, string name = "run.csv") =>
        Should.Throw<CurveFormatException>(() => CurveReader.Parse(content, name)).Message;

    [Fact]
    public void Utf16_with_and_without_a_byte_order_mark_is_named_and_the_fix_given()
    {
        var text = "step,lr,loss\n0,0.001,3.5\n1,0.001,3.4\n2,0.001,3.3\n";
        Refused(Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(text)).ToArray()).ShouldContain("UTF-16");
        Refused(Encoding.Unicode.GetBytes(text)).ShouldContain("UTF-16");
        Refused(Encoding.BigEndianUnicode.GetBytes(text)).ShouldContain("iconv");
    }

    [Fact]
    public void A_binary_file_is_refused_without_printing_its_bytes()
    {
        var rng = new Random(3);
        var bytes = new byte[2000];
        rng.NextBytes(bytes);
        var m = Refused(bytes, "events.out.tfevents.1");
        m.ShouldContain("binary file");
        m.ShouldAllBe(c => c >= ' ');   // no control characters echoed
        m.Length.ShouldBeLessThan(300);
        Refused([0x1F, 0x8B, 8, 0, 0, 0, 0, 0]).ShouldContain("gzip");
        Refused("PK\u0003\u0004rest"u8.ToArray()).ShouldContain("zip");
    }

    [Fact]
    public void Ordinary_text_with_tabs_and_crlf_still_reads()
    {
        var c = CurveReader.Parse(Encoding.UTF8.GetBytes("step\tlr\tloss\r\n0\t0.001\t3.5\r\n1\t0.001\t3.4\r\n"), "run.tsv");
        c.Count.ShouldBe(2);
        c.Loss![1].ShouldBe(3.4);
    }
}
