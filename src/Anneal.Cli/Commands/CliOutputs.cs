using Anneal.IO;

namespace Anneal.Cli.Commands;

/// <summary>
/// The output options of one command, checked together before any input is read or anything computed, so a bad
/// output path costs the user nothing (the files themselves are committed together with <see cref="AtomicFile.WriteAll"/>).
/// </summary>
internal static class CliOutputs
{
    /// <summary>
    /// Checks each output file (the option's name, its path; a null path was not asked for) with
    /// <see cref="AtomicFile.CheckWritable"/>, and that no two options name the same file (the second would silently
    /// replace the first). Throws <see cref="InputException"/> naming the option.
    /// </summary>
    public static void Check(params (string Option, string? Path)[] outputs)
    {
        int count = 0;
        foreach (var (option, path) in outputs)
            if (path is not null) { AtomicFile.CheckWritable(path, option); count++; }
        // One file or none cannot clash. Every command calls this, mostly with no output asked for, and the grouping below
        // over these tuples is compiled at run time (about 10 ms of a command's start).
        if (count < 2) return;
        var given = outputs.Where(o => o.Path is not null).ToArray();
        var same = given.GroupBy(o => Path.GetFullPath(o.Path!)).FirstOrDefault(g => g.Count() > 1);
        if (same is not null)
            throw new InputException($"{string.Join(" and ", same.Select(o => o.Option))} name the same file {same.First().Path}; give each output its own file");
    }
}
