using Anneal.Cli;

namespace Anneal.Tests.Cli;

/// <summary>
/// Which runs record and replay a multicore JIT profile (<see cref="JitProfile"/>), against the rules its remarks state: a
/// command's run gets one named after the command; a bare option, a help page, no command, or a first word that is no
/// command name (so never a path) gets none.
/// </summary>
public sealed class JitProfileTests
{
    [Theory]
    [InlineData("fit|a.csv|--out|law.json", "fit")]
    [InlineData("runs|add|x.csv", "runs")]
    [InlineData("schedule-list", "schedule-list")]
    [InlineData("", null)]
    [InlineData("--version", null)]
    [InlineData("--help", null)]
    [InlineData("fit|--help", null)]
    [InlineData("fit|-h", null)]
    [InlineData("optimize|-?", null)]
    [InlineData("Fit|a.csv", null)]
    [InlineData("../fit|a.csv", null)]
    [InlineData("fit.csv", null)]
    public void A_profile_only_for_a_commands_run(string args, string? profile) =>
        Assert.Equal(profile, JitProfile.ProfileName(args.Length == 0 ? [] : args.Split('|')));
}
