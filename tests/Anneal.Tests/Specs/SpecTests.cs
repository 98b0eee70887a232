using Anneal.IO;
using Anneal.Schedules;
using Anneal.Specs;

namespace Anneal.Tests.Specs;

public class SpecTests
{
    [Theory]
    [InlineData("cosine(peak=0.0003, total=24000, warmup=2160, min=3e-05)")]
    [InlineData("join(constant(peak=0.0003, warmup=2160), constant(peak=9e-05), at=[8000])")]
    [InlineData("momentum(lambda=0.999)")]
    [InlineData("mpl")]
    [InlineData("f(xs=[1, 2.5, -3], name=\"a b\", w=sqrt)")]
    public void Canonical_text_round_trips_through_parse_and_json(string text)
    {
        var call = SpecCall.Parse(text);
        call.ToString().ShouldBe(text);
        SpecCall.FromJson(call.ToJson().ToJsonString()).ShouldBe(call);
    }

    [Fact]
    public void Whitespace_and_exponent_forms_are_accepted()
    {
        var call = SpecCall.Parse("  wsd( peak = 3E-4 ,total=24_000 )");
        call.ToString().ShouldBe("wsd(peak=0.0003, total=24000)");
    }

    [Theory]
    [InlineData("cosine(peak=3e-4", "expected ',' or ')'")]
    [InlineData("cosine(peak=3e-4x)", "'3e-4x'")]
    [InlineData("cosine(peak=1e999)", "is not a number")]
    [InlineData("", "empty spec")]
    [InlineData("(peak=1)", "unexpected '('")]
    public void Malformed_specs_name_the_problem(string text, string expected)
    {
        var e = Should.Throw<SpecException>(() => SpecCall.Parse(text));
        e.Message.ShouldContain(expected);
    }

    [Fact]
    public void Unknown_and_duplicate_parameters_are_rejected()
    {
        Should.Throw<SpecException>(() => Schedule.Parse("cosine(peak=1, total=10, warmpu=2)")).Message.ShouldContain("unknown parameter 'warmpu'");
        Should.Throw<SpecException>(() => Schedule.Parse("cosine(peak=1, peak=2, total=10)")).Message.ShouldContain("given twice");
        Should.Throw<SpecException>(() => Schedule.Parse("cosine(peak=1)")).Message.ShouldContain("missing 'total=");
        Should.Throw<SpecException>(() => Schedule.Parse("nosuch(peak=1)")).Message.ShouldContain("unknown schedule 'nosuch'");
    }

    [Fact]
    public void Misspelt_parameters_get_a_did_you_mean_hint()
    {
        // Levenshtein distances by hand: warmpu -> warmup is 2 (a transposition), totl -> total is 1.
        SpecArgs.EditDistance("warmpu", "warmup").ShouldBe(2);
        SpecArgs.EditDistance("totl", "total").ShouldBe(1);
        SpecArgs.EditDistance("", "abc").ShouldBe(3);
        var e = Should.Throw<SpecException>(() => Schedule.Parse("cosine(peak=1, total=10, warmpu=2, zzz=1)")).Message;
        e.ShouldContain("'warmpu' (did you mean 'warmup'?)");
        e.ShouldContain("'zzz';");   // nothing near: no hint
        // Every parameter of cosine (Schedule.Parse's factory: CosineSchedule), the given ones marked; before session 24 only the
        // four not given were listed ("valid here: cycles, exponent, min, warmup"), as if peak and total were not valid.
        e.ShouldContain("valid here: cycles, exponent, min, peak (given), total (given), warmup (in 'cosine(");
        Should.Throw<SpecException>(() => Schedule.Parse("wsd(peak=1, totl=100, decay=0.2)")).Message.ShouldContain("missing 'total=...' (you wrote 'totl')");
    }
}

/// <summary>The public-contract spec forms, checked against closed forms at chosen steps.</summary>
public class ContractScheduleTests
{
    [Fact]
    public void Cosine_matches_the_closed_form_after_a_linear_warmup()
    {
        var s = Schedule.Parse("cosine(peak=1e-3, total=110, warmup=10, min=1e-4)");
        s[0].ShouldBe(0.0);
        s[5].ShouldBe(0.5e-3, 1e-18);
        s[10].ShouldBe(1e-3, 1e-18);
        // p = (60 - 10) / 100 = 0.5: midway between peak and min.
        s[60].ShouldBe(1e-4 + 0.9e-3 * 0.5, 1e-18);
        s[110].ShouldBe(1e-4, 1e-18);
        s[500].ShouldBe(1e-4, 1e-18);
    }

    [Fact]
    public void Wsd_exponential_matches_the_mpl_benchmark_schedule()
    {
        // MPL benchmark wsd_20000_24000: exponential decay 3e-4 -> 3e-5 over steps 20000..24000
        // (shared/README.md); the logged lr of data/examples/mpl/400m/wsd_20000_24000.csv agrees.
        var s = Schedule.Parse("wsd(peak=3e-4, total=24000, warmup=2160, decay_steps=4000, shape=exponential, min=3e-5)");
        s[19999].ShouldBe(3e-4);
        s[22000].ShouldBe(3e-4 * Math.Pow(0.1, 0.5), 1e-15);
        s[24000].ShouldBe(3e-5, 1e-18);
        var file = File.ReadAllLines(TestPaths.Mpl("400m", "wsd_20000_24000.csv")).Skip(1)
            .Select(l => l.Split(',')).Select(c => (step: long.Parse(c[0]), lr: double.Parse(c[1], System.Globalization.CultureInfo.InvariantCulture)));
        foreach (var (step, lr) in file) s[step].ShouldBe(lr, 1e-12 * 3e-4, $"step {step}");
    }

    [Fact]
    public void Wsd_fraction_sets_the_cooldown_length_and_sqrt_shape()
    {
        var s = (WsdSchedule)Schedule.Parse("wsd(peak=1, total=100, decay=0.2, shape=sqrt)");
        s.DecayStart.ShouldBe(80);
        s[90].ShouldBe(1 - Math.Sqrt(0.5), 1e-15);
        Schedule.Parse(s.Spec).ShouldBe(s);
    }

    [Fact]
    public void Join_counts_steps_from_each_boundary_and_fill_matches_at()
    {
        var s = Schedule.Parse("join(linear(peak=1, total=10), constant(peak=0.5), cosine(peak=2, total=4), at=[5, 8])");
        s[4].ShouldBe(0.6, 1e-15);   // linear 1 -> 0 over 10 steps, step 4
        s[5].ShouldBe(0.5);
        s[8].ShouldBe(2.0);          // cosine restarts from its own step 0
        s[10].ShouldBe(1.0, 1e-15);  // cosine step 2 of 4: halfway
        var filled = s.Sample(20);
        for (int t = 0; t < 20; t++) filled[t].ShouldBe(s[t]);
        var part = new double[7];
        s.Fill(part, 3);
        for (int i = 0; i < 7; i++) part[i].ShouldBe(s[3 + i]);
    }
}

public class AtomicFileTests
{
    [Fact]
    public void A_failed_write_leaves_neither_the_target_nor_a_temp_file()
    {
        var dir = Directory.CreateTempSubdirectory("anneal-atomic").FullName;
        var path = Path.Combine(dir, "out.csv");
        Should.Throw<InvalidOperationException>(() => AtomicFile.WriteText(path, w => { w.Write("partial"); throw new InvalidOperationException("boom"); }));
        Directory.GetFiles(dir).ShouldBeEmpty();
        AtomicFile.WriteAllText(path, "done");
        File.ReadAllText(path).ShouldBe("done");
        Directory.GetFiles(dir).Length.ShouldBe(1);
    }

    [Fact]
    public void A_temp_file_left_by_a_killed_writer_is_removed_by_the_next_write_to_the_same_path()
    {
        var dir = Directory.CreateTempSubdirectory("anneal-atomic").FullName;
        var path = Path.Combine(dir, "out.csv");
        // A process that has exited: its pid names the stale file (a real kill -9 leaves exactly this).
        using var gone = System.Diagnostics.Process.Start("true")!;
        gone.WaitForExit();
        var stale = Path.Combine(dir, $".out.csv.{gone.Id}.tmp");
        var other = Path.Combine(dir, $".other.csv.{gone.Id}.tmp");   // another target's: not ours to touch
        File.WriteAllText(stale, "half a file");
        File.WriteAllText(other, "x");
        AtomicFile.WriteAllText(path, "done");
        File.Exists(stale).ShouldBeFalse();
        File.Exists(other).ShouldBeTrue();
        File.ReadAllText(path).ShouldBe("done");
    }

    [Fact] // issue 12, defect 8: overwriting keeps the mode (checked against the mode set before the write)
    public void Overwriting_a_file_keeps_its_permission_bits()
    {
        if (OperatingSystem.IsWindows()) return;
        var dir = Directory.CreateTempSubdirectory("anneal-atomic").FullName;
        var path = Path.Combine(dir, "law.json");
        File.WriteAllText(path, "old");
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        File.SetUnixFileMode(path, mode);
        AtomicFile.WriteAllText(path, "new");
        File.ReadAllText(path).ShouldBe("new");
        File.GetUnixFileMode(path).ShouldBe(mode);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        AtomicFile.WriteAll([(path, "newer"), (Path.Combine(dir, "other.csv"), "x")]);
        File.GetUnixFileMode(path).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Fact] // issue 12, defect 8: a link is written through: the link stays a link, the file it names gets the content
    public void Writing_to_a_symbolic_link_replaces_the_file_it_points_to_and_keeps_the_link()
    {
        if (OperatingSystem.IsWindows()) return;
        var dir = Directory.CreateTempSubdirectory("anneal-atomic").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "runs"));
        var target = Path.Combine(dir, "runs", "run-7.csv");
        File.WriteAllText(target, "old");
        var link = Path.Combine(dir, "latest.csv");
        File.CreateSymbolicLink(link, "runs/run-7.csv");             // relative, as ln -s writes it
        var link2 = Path.Combine(dir, "latest2.csv");
        File.CreateSymbolicLink(link2, link);                         // a link to a link
        AtomicFile.CheckWritable(link2, "--out");
        AtomicFile.WriteAllText(link2, "new");
        new FileInfo(link).LinkTarget.ShouldBe("runs/run-7.csv");
        new FileInfo(link2).LinkTarget.ShouldBe(link);
        File.ReadAllText(target).ShouldBe("new");
        Directory.GetFiles(Path.Combine(dir, "runs")).ShouldBe([target]);   // no temp file left beside the target
        // a dangling link creates the file it names
        var dangling = Path.Combine(dir, "next.csv");
        File.CreateSymbolicLink(dangling, Path.Combine(dir, "runs", "run-8.csv"));
        AtomicFile.WriteAllText(dangling, "8");
        File.ReadAllText(Path.Combine(dir, "runs", "run-8.csv")).ShouldBe("8");
        new FileInfo(dangling).LinkTarget.ShouldNotBeNull();
    }

    [Fact] // issue 12, defect 8: a link loop cannot be written through: bad input, named, before any work
    public void A_symbolic_link_loop_is_bad_input()
    {
        if (OperatingSystem.IsWindows()) return;
        var dir = Directory.CreateTempSubdirectory("anneal-atomic").FullName;
        var a = Path.Combine(dir, "a.csv"); var b = Path.Combine(dir, "b.csv");
        File.CreateSymbolicLink(a, b); File.CreateSymbolicLink(b, a);
        Should.Throw<InputException>(() => AtomicFile.CheckWritable(a, "--out")).Message.ShouldContain("symbolic link");
        Should.Throw<InputException>(() => AtomicFile.WriteAllText(a, "x")).Message.ShouldContain("symbolic link");
        new FileInfo(a).LinkTarget.ShouldBe(b);
    }

    [Fact]
    public void A_missing_folder_is_reported_as_bad_input()
    {
        Should.Throw<InputException>(() => AtomicFile.WriteAllText("/nonexistent-anneal-dir/x.csv", "x")).Message.ShouldContain("does not exist");
    }
}
