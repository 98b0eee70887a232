using System.CommandLine;
using Anneal.Curves;
using Anneal.Laws;
using Anneal.Store;

namespace Anneal.Cli.Commands;

/// <summary>
/// The run store as the analysis commands use it (<c>fit</c>, <c>predict</c>, <c>optimize</c>): stored runs and laws as
/// inputs (<c>run:12</c>, <c>run:NAME</c>, <c>law:5</c>), and <c>--store</c> to save the result there with its provenance.
/// The store is opened and every reference resolved before any work starts, so a bad one fails fast with exit code 2.
/// </summary>
internal static class StoreInputs
{
    /// <summary>The <c>--store [LOCATION]</c> option of a command whose result can be saved.</summary>
    public static Option<string?> SaveOption(string what) => new("--store")
    {
        Description = $"Save the {what} in the run store with its provenance (input runs, law, Anneal version); also where run:ID / run:NAME / law:ID inputs are read from. "
            + "Without a value: the default store ($ANNEAL_STORE, else ~/.local/share/anneal/anneal.db); else a SQLite file or postgres://user:password@host:port/database.",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>
    /// The store the command needs, or null: opened when <c>--store</c> is given (to save) or an input names a stored run
    /// or law (<paramref name="readsFromStore"/>, read from <c>--store</c>'s store, else the default one). A store that
    /// is read from must already exist; one only saved to is created like <c>anneal runs add</c> creates it.
    /// </summary>
    public static RunStore? Open(ParseResult r, Option<string?> option, bool readsFromStore)
    {
        bool saves = r.GetResult(option) is not null;
        if (!saves && !readsFromStore) return null;
        var location = r.GetValue(option);
        if (location is not null && (Provenance.IsRun(location) || Provenance.IsLaw(location)))
            throw new InputException($"--store '{location}': that is a stored run or law, not a store; put --store after the inputs, or give the store's path (--store runs.db)");
        if (readsFromStore)
        {
            var path = location ?? RunStore.DefaultLocation;
            if (!path.Contains("://", StringComparison.Ordinal) && !File.Exists(path))
                throw new InputException($"--store: there is no store at {Path.GetFullPath(path)} to read run:/law: inputs from; add runs with 'anneal runs add FILE --store {path}', or name the store that holds them with --store");
        }
        return RunsCommands.Open(location);
    }

    /// <summary>
    /// Reads curve arguments: files (FILE or FILE@SCHEDULE) with <paramref name="readFile"/>, stored runs (run:ID, run:NAME,
    /// optionally @SCHEDULE) from <paramref name="store"/>. Returns the curves in order and the store ids of the stored ones.
    /// </summary>
    public static (LossCurve[] Curves, long[] RunIds) ReadCurves(IReadOnlyList<string> args, RunStore? store, Func<string, LossCurve> readFile, TextWriter notes)
    {
        var stored = args.Where(Provenance.IsRun).ToList();
        // every stored reference is resolved (and the store's runs read) before any file is parsed
        var runs = stored.Count == 0 ? [] : Provenance.ReadRuns(store!, stored);
        var curves = new LossCurve[args.Count];
        int k = 0;
        for (int i = 0; i < args.Count; i++)
        {
            if (Provenance.IsRun(args[i]))
            {
                var run = runs[k++];
                foreach (var w in run.Curve.Warnings) notes.WriteLine("note: " + w);
                curves[i] = run.Curve;
            }
            else curves[i] = readFile(args[i]);
        }
        return (curves, runs.Select(r => r.Id).ToArray());
    }

    /// <summary>
    /// A law argument: law:ID from <paramref name="store"/>, else a built-in name or a law file. Returns the law and, for a
    /// stored one, its record.
    /// </summary>
    public static (FittedLaw Law, StoredLaw? Stored) ReadLaw(string arg, RunStore? store)
    {
        if (!Provenance.IsLaw(arg)) return (BuiltinLaws.Read(arg), null);
        var stored = Provenance.ReadLaw(store!, arg);
        return (stored.Law, stored);
    }

    /// <summary>The stored law a result made with <paramref name="law"/> links to (saving an outside law first), with a note saying which.</summary>
    public static long LawId(RunStore store, string arg, FittedLaw law, StoredLaw? stored, TextWriter notes)
    {
        if (stored is not null) return stored.Id;
        long id = Provenance.LawFromOutside(store, law, BuiltinLaws.Find(arg) is null ? $"{Path.GetFileName(arg)}: {law.Law.Spec}" : arg);
        notes.WriteLine($"note: {arg} is kept in the store as law {id} (no runs recorded: it was not fitted to stored runs), so the result links to it");
        return id;
    }
}
