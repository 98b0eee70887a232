using System.Diagnostics;
using System.Globalization;
using Anneal.Curves;

namespace Anneal.Tuning;

/// <summary>
/// Any training program as a trial (PyTorch or anything else). It gets its parameters substituted into its
/// arguments' placeholders (or, when no argument names one, appended as <c>--name=value</c>), and always as
/// environment variables <c>ANNEAL_PARAM_NAME</c> (upper case), with <c>ANNEAL_TRIAL</c>, <c>ANNEAL_LOG</c>,
/// <c>ANNEAL_STEPS</c>, <c>ANNEAL_THREADS</c> and, when the study has one, <c>ANNEAL_SCHEDULE</c>. It writes a log in any
/// format the curve readers accept; Anneal follows the log while the program runs (complete lines only), reports the
/// metric's new rows, and kills the program (its whole process tree) when the pruner stops the trial. Its standard
/// output and error go to the log's path with <c>.out</c> appended. Exit code 0 completes the trial with the log's last
/// value of the metric; anything else fails it.
/// </summary>
public sealed class CommandObjective(CommandObjectiveSpec spec, string workingDirectory) : ITrialObjective
{
    /// <summary>How often the log is re-read while the program runs.</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long a program that died of SIGHUP, SIGINT or SIGTERM waits for the sweep's own stop before its trial is
    /// judged failed. Those signals usually reach a whole process group or job at once (Ctrl+C in a terminal, scancel of
    /// a Slurm task), so the program may die a moment before this process's handler cancels the trial; judged at once,
    /// a trial stopped from outside would count as failed on its own merit and not be requeued, and the worker would
    /// start another trial before its stop arrived.
    /// </summary>
    public TimeSpan SignalGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The command line of a trial (program first), for messages and tests.</summary>
    public static IReadOnlyList<string> Arguments(CommandObjectiveSpec spec, TrialParams p, int trial)
    {
        string T(string s) => SearchSpace.Substitute(s.Replace("{trial}", trial.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), p, "objective command");
        var args = spec.Command.Select(T).ToList();
        bool placeholders = spec.Command.Any(a => SearchSpace.Placeholders(a).Any(n => n != "trial"));
        if (!placeholders) args.AddRange(p.Items.Select(kv => $"--{kv.Key}={kv.Value}"));
        return args;
    }

    /// <summary>The log path of a trial (relative paths from the working directory).</summary>
    public string LogPath(int trial, TrialParams p) =>
        Path.GetFullPath(Path.Combine(workingDirectory, SearchSpace.Substitute(spec.Log.Replace("{trial}", trial.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), p, "objective log")));

    /// <inheritdoc/>
    public TrialResult Run(TrialContext ctx)
    {
        var args = Arguments(spec, ctx.Params, ctx.Number);
        string log = LogPath(ctx.Number, ctx.Params);
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        if (File.Exists(log)) File.Delete(log); // a previous attempt's log must not be read as this one's
        var psi = new ProcessStartInfo(args[0]) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args.Skip(1)) psi.ArgumentList.Add(a);
        foreach (var (k, v) in ctx.Params.Items) psi.Environment[$"ANNEAL_PARAM_{k.ToUpperInvariant()}"] = v.ToString();
        psi.Environment["ANNEAL_TRIAL"] = ctx.Number.ToString(CultureInfo.InvariantCulture);
        psi.Environment["ANNEAL_LOG"] = log;
        psi.Environment["ANNEAL_STEPS"] = ctx.PlannedSteps.ToString(CultureInfo.InvariantCulture);
        psi.Environment["ANNEAL_THREADS"] = ctx.Threads.ToString(CultureInfo.InvariantCulture);
        if (ctx.Schedule is not null) psi.Environment["ANNEAL_SCHEDULE"] = ctx.Schedule;
        using var output = new StreamWriter(log + ".out") { AutoFlush = true };
        Process process;
        try { process = Process.Start(psi) ?? throw new InputException($"objective command: could not start '{args[0]}'"); }
        catch (System.ComponentModel.Win32Exception e) { throw new InputException($"objective command: could not start '{args[0]}' ({e.Message}); check the program name and that it is on PATH"); }
        using (process)
        {
            var gate = new object();
            var tail = new Queue<string>();
            void Line(string? l)
            {
                if (l is null) return;
                lock (gate) { output.WriteLine(l); tail.Enqueue(l); if (tail.Count > 5) tail.Dequeue(); }
            }
            process.OutputDataReceived += (_, e) => Line(e.Data);
            process.ErrorDataReceived += (_, e) => Line(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            long lastStep = -1;
            double? last = null;
            bool stopped = false;
            void Follow()
            {
                foreach (var (step, value) in Read(log))
                {
                    if (step <= lastStep) continue;
                    lastStep = step;
                    last = value;
                    if (!stopped && ctx.Report(step, value)) stopped = true;
                }
            }
            while (!process.WaitForExit((int)Poll.TotalMilliseconds))
            {
                Follow();
                if (stopped || ctx.Cancel.IsCancellationRequested)
                {
                    try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } // it exited meanwhile
                    process.WaitForExit();
                    return new TrialResult(TrialState.Pruned, last, "stopped by the pruner");
                }
            }
            process.WaitForExit(); // drains the redirected output
            if (!stopped) Follow();
            if (stopped) return new TrialResult(TrialState.Pruned, last, "stopped by the pruner");
            if (process.ExitCode != 0)
            {
                // 128 + n: killed by signal n (how .NET reports a signalled child); 1 HUP, 2 INT, 15 TERM
                int signal = process.ExitCode > 128 ? process.ExitCode - 128 : 0;
                if (signal is 1 or 2 or 15) ctx.Cancel.WaitHandle.WaitOne(SignalGrace);
                string said;
                lock (gate) said = string.Join(" | ", tail);
                string how = signal > 0 ? $"was killed by signal {signal} (exit code {process.ExitCode})" : $"exited with code {process.ExitCode}";
                return new TrialResult(TrialState.Failed, last, how + (said.Length > 0 ? $"; its last output: {said}" : "") + $" (all of it in {log}.out)");
            }
            return last is null
                ? new TrialResult(TrialState.Failed, null, $"exited with code 0 but its log {log} has no {spec.Metric} value; write the metric column the study names")
                : new TrialResult(TrialState.Complete, last);
        }
    }

    /// <summary>The metric's (step, value) rows of the log's complete lines so far; none while it is absent or unreadable.</summary>
    private IEnumerable<(long Step, double Value)> Read(string log)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(log); }
        catch (IOException) { yield break; }
        catch (UnauthorizedAccessException) { yield break; }
        int end = Array.LastIndexOf(bytes, (byte)'\n');
        if (end < 0) yield break;
        LossCurve curve;
        try { curve = CurveReader.Parse(bytes.AsSpan(0, end + 1), log); }
        catch (InputException) { yield break; } // a header alone, or a log the readers cannot read yet
        var values = spec.Metric == "val_loss" ? curve.ValLoss : curve.Loss;
        if (values is null) yield break;
        for (int i = 0; i < curve.Count; i++)
            if (double.IsFinite(values[i])) yield return (curve.Steps[i], values[i]);
    }
}
