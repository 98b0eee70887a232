using System.Buffers.Binary;
using Anneal.Curves;
using Anneal.Curves.Logs;
using static Anneal.Tests.Curves.TrainerLogFixtures;

namespace Anneal.Tests.Curves;

/// <summary>CRC-32C against RFC 3720's test vectors, on the hardware path and the table path.</summary>
public sealed class Crc32CTests
{
    // RFC 3720 (iSCSI), appendix B.4: the CRC of each 32-byte pattern and of a SCSI Read (10) command PDU,
    // given there as the bytes stored little-endian ("aa 36 91 8a" = 0x8a9136aa).
    public static TheoryData<string, uint> Vectors() => new()
    {
        { "zeros", 0x8A9136AAu },
        { "ones", 0x62A8AB43u },
        { "incrementing", 0x46DD794Eu },
        { "decrementing", 0x113FDB5Cu },
        { "iscsi-read-pdu", 0xD9963A56u },
        { "123456789", 0xE3069283u }, // the CRC catalogue's check value of CRC-32C (Castagnoli)
    };

    private static byte[] Bytes(string name) => name switch
    {
        "zeros" => new byte[32],
        "ones" => Enumerable.Repeat((byte)0xFF, 32).ToArray(),
        "incrementing" => Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(),
        "decrementing" => Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray(),
        "iscsi-read-pdu" =>
        [
            0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
            0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ],
        _ => "123456789"u8.ToArray(),
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Matches_the_RFC_3720_vectors_on_both_paths(string name, uint crc)
    {
        Crc32C.Compute(Bytes(name)).ShouldBe(crc);
        Crc32C.ComputeSoftware(Bytes(name)).ShouldBe(crc);
    }

    [Fact]
    public void Hardware_and_table_paths_agree_on_every_length_and_alignment()
    {
        var rng = new Random(3720);
        var data = new byte[1000];
        rng.NextBytes(data);
        for (int start = 0; start < 9; start++)
            for (int len = 0; len < 300; len += 7)
                Crc32C.Compute(data.AsSpan(start, len)).ShouldBe(Crc32C.ComputeSoftware(data.AsSpan(start, len)));
    }
}

/// <summary>
/// TensorBoard event files: the peer fixtures (tests/Anneal.Tests/Data/logs, written by make_peer_tfevents.py with
/// Google's protobuf encoder, the crc32c module and TensorBoard's record framing) and Anneal's own writer.
/// </summary>
public sealed class TensorBoardLogTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private static string Peer(string f) => TestPaths.TestData("logs", f);

    [Fact]
    public void Reads_the_peer_simple_value_file_as_HF_callback_tags()
    {
        var c = CurveReader.Read(Peer("peer-simple.tfevents"));
        c.Format.ShouldBe("TensorBoard event file");
        c.Steps.ShouldBe(TrainSteps);
        for (int i = 0; i < c.Count; i++)
        {
            long s = c.Steps[i];
            // simple_value is a float32: the peer stored the float nearest each closed-form value
            c.Loss![i].ShouldBe((double)(float)Loss(s));
            c.Lr![i].ShouldBe((double)(float)Lr(s));
            c.GradNorm![i].ShouldBe((double)(float)(1.0 / s));
            if (EvalSteps.Contains(s)) c.ValLoss![i].ShouldBe((double)(float)Eval(s)); else double.IsNaN(c.ValLoss![i]).ShouldBeTrue();
        }
    }

    [Fact]
    public void Reads_the_peer_tensor_scalar_file_float_val_and_double_tensor_content()
    {
        var c = CurveReader.Read(Peer("peer-tensor.tfevents"));
        c.Steps.ShouldBe(Enumerable.Range(0, 20).Select(i => 5L * i).ToArray());
        for (int i = 0; i < c.Count; i++)
        {
            c.Loss![i].ShouldBe((double)(float)Loss(c.Steps[i]));
            c.Lr![i].ShouldBe(Lr(c.Steps[i])); // a DT_DOUBLE tensor_content keeps every bit
        }
    }

    [Fact]
    public void Own_writer_frames_the_first_record_byte_for_byte_as_the_peer_and_round_trips()
    {
        var peer = File.ReadAllBytes(Peer("peer-simple.tfevents"));
        var own = TensorBoardWriter.Encode(Curve());
        int first = 12 + (int)BinaryPrimitives.ReadUInt64LittleEndian(peer) + 4;
        own.AsSpan(0, first).SequenceEqual(peer.AsSpan(0, first)).ShouldBeTrue("the file_version record (wall_time 1.7e9) differs from the peer's");

        var p = _tmp.Combine("events.out.tfevents.1700000000.host.1.0");
        File.WriteAllBytes(p, own);
        var c = CurveReader.Read(p);
        c.Steps.ShouldBe(TrainSteps);
        c.Loss!.ShouldBe(TrainSteps.Select(s => (double)(float)Loss(s)).ToArray());
        c.ValLoss![4].ShouldBe((double)(float)Eval(50));
    }

    [Fact]
    public void A_record_cut_by_the_end_of_the_file_ends_the_read_with_a_warning()
    {
        var bytes = File.ReadAllBytes(Peer("peer-simple.tfevents"));
        var p = _tmp.Combine("cut.tfevents");
        File.WriteAllBytes(p, bytes[..^7]);
        var c = CurveReader.Read(p);
        c.Steps[^1].ShouldBe(200); // the cut record is the last eval/loss at 200; the training values of 200 came before it
        double.IsNaN(c.ValLoss![^1]).ShouldBeTrue();
        c.Warnings.ShouldContain(w => w.Contains("cut", StringComparison.Ordinal));
    }

    [Fact]
    public void A_flipped_byte_is_a_crc_error_naming_the_record_and_byte()
    {
        var bytes = File.ReadAllBytes(Peer("peer-simple.tfevents"));
        int second = 12 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes) + 4;
        var data = (byte[])bytes.Clone();
        data[second + 14] ^= 0x40;
        var p = _tmp.Combine("flip.tfevents");
        File.WriteAllBytes(p, data);
        var e = Should.Throw<CurveFormatException>(() => CurveReader.Read(p));
        e.Message.ShouldContain("record 2");
        e.Message.ShouldContain($"byte {second}");
        e.Message.ShouldContain("CRC-32C does not match");

        var len = (byte[])bytes.Clone();
        len[second + 1] ^= 0x01;
        File.WriteAllBytes(p, len);
        Should.Throw<CurveFormatException>(() => CurveReader.Read(p)).Message.ShouldContain("length's CRC-32C");
    }

    [Fact]
    public void Loss_col_eval_loss_makes_the_evaluation_the_curve()
    {
        var c = CurveReader.Read(Peer("peer-simple.tfevents"), new CurveReadOptions { LossColumn = "eval/loss" });
        c.Steps.ShouldBe(EvalSteps);
        c.Loss!.ShouldBe(EvalSteps.Select(s => (double)(float)Eval(s)).ToArray());
        var e = Should.Throw<CurveFormatException>(() => CurveReader.Read(Peer("peer-simple.tfevents"), new CurveReadOptions { StepColumn = "x" }));
        e.Message.ShouldContain("stores the step with each value");
    }

    [Fact]
    public void A_resumed_run_in_two_event_files_keeps_the_later_values_and_says_so()
    {
        var d = _tmp.Combine("resumed");
        Directory.CreateDirectory(d);
        // first process logged to step 200, then was restarted from the checkpoint at step 100 with other values
        File.WriteAllBytes(Path.Combine(d, "events.out.tfevents.1700000000.host.1.0"), TensorBoardWriter.Encode(Curve()));
        var later = Curve() with { Steps = TrainSteps.Where(s => s > 100).ToArray() };
        later = later with { Loss = later.Steps.Select(s => Loss(s) - 0.5).ToArray(), Lr = later.Steps.Select(Lr).ToArray(), ValLoss = null, GradNorm = null };
        File.WriteAllBytes(Path.Combine(d, "events.out.tfevents.1700003600.host.2.0"), TensorBoardWriter.Encode(later));
        var c = CurveReader.Read(d);
        c.Steps.ShouldBe(TrainSteps);
        c.Loss![9].ShouldBe((double)(float)Loss(100));
        c.Loss[10].ShouldBe((double)(float)(Loss(110) - 0.5));
        c.Notes.ShouldContain(n => n.Contains("resumed run", StringComparison.Ordinal) && n.Contains("from step 110", StringComparison.Ordinal));
    }

    [Fact]
    public void Keras_train_and_validation_folders_are_one_run()
    {
        var d = _tmp.Combine("keras/logs");
        Directory.CreateDirectory(Path.Combine(d, "train"));
        Directory.CreateDirectory(Path.Combine(d, "validation"));
        var w = new Anneal.Curves.Logs.ProtoWriter();
        byte[] File1(string tag, Func<long, double> f)
        {
            using var ms = new MemoryStream();
            for (int e = 0; e < 5; e++)
            {
                var val = new Anneal.Curves.Logs.ProtoWriter();
                val.Bytes(1, System.Text.Encoding.UTF8.GetBytes(tag));
                val.Float(2, (float)f(e));
                var sum = new Anneal.Curves.Logs.ProtoWriter();
                sum.Bytes(1, val.Span);
                w.Clear();
                w.Int(2, e);
                w.Bytes(5, sum.Span);
                TensorBoardWriter.Record(ms, w.Span);
            }
            return ms.ToArray();
        }
        File.WriteAllBytes(Path.Combine(d, "train", "events.out.tfevents.1700000000.host.1.0.v2"), File1("epoch_loss", e => Loss(e)));
        File.WriteAllBytes(Path.Combine(d, "validation", "events.out.tfevents.1700000001.host.1.1.v2"), File1("epoch_loss", e => Eval(e)));
        var c = CurveReader.Read(_tmp.Combine("keras"));
        c.Steps.ShouldBe([0L, 1, 2, 3, 4]);
        c.Loss![3].ShouldBe((double)(float)Loss(3));
        c.ValLoss![3].ShouldBe((double)(float)Eval(3));
    }
}
