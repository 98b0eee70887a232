using System.Runtime;

namespace Anneal.Cli;

/// <summary>
/// Background compilation of what a command compiled at run time the last time it ran (the runtime's multicore JIT,
/// <see cref="ProfileOptimization"/>). Even precompiled (ReadyToRun), a command compiles a few hundred methods on the
/// machine: the framework's generic code instantiated over Anneal's types (LINQ over tuples, <c>Parallel.For</c>), which
/// no image outside the framework's own can hold, the framework's vectorised helpers that its image left for this CPU,
/// and the law's AVX-512 kernel. The 400M default fit spent ~10 % of its CPU there, most of it on the main thread while
/// the second core was idle (reading the runs before the fit, reporting after it; docs/benchmarks.md, "Session 10: fit
/// speed"). With a profile, a runtime thread compiles those methods on the idle core ahead of their first call.
/// </summary>
/// <remarks>
/// One profile per command (<c>fit.jitprofile</c>, ...), in <c>jit-profiles/</c> beside the binary, rewritten at every exit
/// with what that run compiled; none for a bare option or a help page. Where that folder cannot be created or written (a read-only install), the command runs
/// without it, as it does on its first run. The compiled code is the same whichever thread compiles it: outputs do not
/// depend on the profile. <c>ANNEAL_JIT_PROFILE=0</c> turns it off (benchmarks of the cold path).
/// </remarks>
internal static class JitProfile
{
    /// <summary>Starts recording (and, when a profile exists, replaying) for the command named by <paramref name="args"/>' first word.</summary>
    public static void Start(string[] args)
    {
        if (Environment.GetEnvironmentVariable("ANNEAL_JIT_PROFILE") == "0" || Environment.ProcessorCount < 2) return;
        // Only as the process's own entry point: the web tests start this Main inside their test host, which is no command.
        if (System.Reflection.Assembly.GetEntryAssembly() != typeof(JitProfile).Assembly) return;
        if (ProfileName(args) is not { } command) return;
        // Reading the profile and starting its thread takes ~20 ms on the calling thread: off the main thread, which meanwhile
        // builds the command tree. Methods the main thread compiles before the profile starts are compiled there, as without one.
        var thread = new Thread(() =>
        {
            try
            {
                var dir = Path.Combine(AppContext.BaseDirectory, "jit-profiles");
                Directory.CreateDirectory(dir);
                ProfileOptimization.SetProfileRoot(dir);
                ProfileOptimization.StartProfile(command + ".jitprofile");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }   // not writable: run without it
        }) { IsBackground = true, Name = "anneal jit profile" };
        thread.Start();
    }

    /// <summary>
    /// The profile's name for a run with <paramref name="args"/>: its command's name (the first word, lower-case letters and
    /// hyphens), or null for a run that gets none. A bare option (--version, --help), a help page or no command starts faster
    /// without (reading and rewriting a profile costs ~20 ms wall, more than such a run compiles), and a help page would
    /// overwrite the command's profile with its own.
    /// </summary>
    internal static string? ProfileName(IReadOnlyList<string> args)
    {
        if (args.Count == 0 || args[0].Length is 0 or > 32 || args[0][0] is < 'a' or > 'z' || !args[0].All(c => c is >= 'a' and <= 'z' or '-')) return null;
        if (args.Any(a => a is "--help" or "-h" or "-?" or "--version")) return null;
        return args[0];
    }
}
