using System.Text;
using System.Text.RegularExpressions;
using Anneal.Cli;
using static Anneal.Tests.Cli.CliRunner;

namespace Anneal.Tests.Cli;

/// <summary>
/// Issue 11, domain errors: the library (src/Anneal, src/Anneal.Training, src/Anneal.Store, src/Anneal.Web) speaks of parameters (<c>peak</c>), never of
/// CLI flags (<c>--peak</c>); the CLI maps parameter names to its options in one place (<see cref="OptionNames"/>).
/// </summary>
public sealed class ParameterNamingTests
{
    /// <summary>
    /// String literals in library code that may hold a flag, each with why (file relative to the repository, the literal's flag).
    /// Comments are not scanned: a doc comment may show how a front end spells a parameter.
    /// </summary>
    private static readonly (string File, string Flag, string Why)[] Allowed =
    [
        ("src/Anneal.Training/Data/TextData.cs", "--silent", "an option of npm, which fetches the Brown corpus, not of anneal"),
    ];

    private static readonly Regex Flag = new(@"(?<![\w-])--[a-z][a-z0-9-]*", RegexOptions.Compiled);

    [Fact]
    public void No_library_source_file_holds_a_cli_flag_literal()
    {
        var found = new List<string>();
        foreach (var folder in new[] { "src/Anneal", "src/Anneal.Training", "src/Anneal.Store", "src/Anneal.Web" })
        {
            var root = Path.Combine(TestPaths.RepoRoot, folder);
            foreach (var path in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
            {
                var rel = Path.GetRelativePath(TestPaths.RepoRoot, path).Replace('\\', '/');
                if (rel.Contains("/bin/", StringComparison.Ordinal) || rel.Contains("/obj/", StringComparison.Ordinal)) continue;
                foreach (var (line, literal) in StringLiterals(File.ReadAllText(path)))
                    foreach (Match m in Flag.Matches(literal))
                        if (!Allowed.Any(a => a.File == rel && a.Flag == m.Value))
                            found.Add($"{rel}:{line}: {m.Value} in \"{literal}\"");
            }
        }
        found.ShouldBeEmpty("library messages must name parameters (InputException.Naming with ParameterName), which the CLI maps to its options:\n" + string.Join("\n", found));
    }

    [Fact]
    public void The_literal_scanner_sees_flags_in_strings_only()
    {
        // Independent source: hand-written snippets whose literals are known.
        static string[] Flags(string code) => StringLiterals(code).SelectMany(l => Flag.Matches(l.Text).Select(m => m.Value)).ToArray();
        Flags("throw new InputException(\"--peak must be > 0\");").ShouldBe(["--peak"]);
        Flags("x = $\"{a} needs --d-model, got {f(\"--no\")}\";").ShouldBe(["--d-model", "--no"], ignoreOrder: true);
        Flags("// use --peak\n/// <c>--steps</c>\n/* --warmup */ i = --count; c = '\"';").ShouldBeEmpty();
        Flags("s = @\"a \"\"--out\"\" b\";").ShouldBe(["--out"]);
        Flags("s = \"\"\"\n  raw --json \"quoted\"\n  \"\"\";").ShouldBe(["--json"]);
        Flags("s = \"https://example.org/a--b\"; // --ignored").ShouldBeEmpty(); // a--b is not a flag: no letter-only word follows "--" at a word start
    }

    [Fact]
    public void The_cli_names_its_options_for_the_library_parameters()
    {
        // optimize: the design problem's total is the run's --steps; min_lr is --min-lr (the library says "total", "min_lr")
        var (code, _, err) = Run("optimize", "mpl-400m", "--steps", "100", "--peak", "1e-3", "--warmup", "100");
        code.ShouldBe(2, err);
        err.ShouldContain("--steps (100) must exceed --warmup (100)");
        (code, _, err) = Run("optimize", "mpl-400m", "--steps", "2400", "--peak", "3e-4", "--min-lr", "1");
        code.ShouldBe(2, err);
        err.ShouldContain("--min-lr must be in [0, --peak)");
        // whatif continuations: extend is a --vary key, not an option, so it keeps its parameter name
        (code, _, err) = Run("whatif", "mpl-400m", "--base", "wsd(peak=3e-4, total=24000, warmup=2160, decay=0.2)", "--from-step", "12000", "--vary", "extend=-1000");
        code.ShouldBe(2, err);
        err.ShouldContain("extend values must be >= 0");
        err.ShouldNotContain("--extend");
        // plan: a note names the option that sets the input it speaks of
        (code, var o, err) = Run("plan", "--params", "1e9", "--tokens", "1e11");
        code.ShouldBe(0, err);
        Regex.Replace(o, @"\s+", " ").ShouldContain("--non-embedding-params to confirm, or give --vocab and --d-model"); // the table wraps long notes
    }

    /// <summary>
    /// The text of every string literal in C# <paramref name="code"/> with its line: regular, verbatim, interpolated
    /// (the literal parts; holes are code and scanned as such) and raw literals; comments and char literals are skipped.
    /// </summary>
    private static List<(int Line, string Text)> StringLiterals(string code)
    {
        var found = new List<(int, string)>();
        int i = 0;
        Code(code, ref i, '\0', found);
        return found;
    }

    private static int LineAt(string s, int i) => s.AsSpan(0, Math.Min(i, s.Length)).Count('\n') + 1;

    // Scans code until `close` at depth 0 (or the end), collecting literals.
    private static void Code(string s, ref int i, char close, List<(int, string)> found)
    {
        int depth = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (c == '/' && i + 1 < s.Length && s[i + 1] == '/') { while (i < s.Length && s[i] != '\n') i++; continue; }
            if (c == '/' && i + 1 < s.Length && s[i + 1] == '*') { int e = s.IndexOf("*/", i + 2, StringComparison.Ordinal); i = e < 0 ? s.Length : e + 2; continue; }
            if (c == '\'') { i++; if (i < s.Length && s[i] == '\\') i++; i++; while (i < s.Length && s[i] != '\'') i++; i++; continue; }
            if (c == '"' || ((c == '$' || c == '@') && Starts(s, i))) { Literal(s, ref i, found); continue; }
            if (close != '\0' && depth == 0 && c == close) { i++; return; }
            if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']' or '}') depth--;
            i++;
        }
    }

    private static bool Starts(string s, int i)
    {
        while (i < s.Length && (s[i] == '$' || s[i] == '@')) i++;
        return i < s.Length && s[i] == '"';
    }

    private static void Literal(string s, ref int i, List<(int, string)> found)
    {
        int start = i, dollars = 0;
        bool verbatim = false;
        while (s[i] == '$' || s[i] == '@') { if (s[i] == '$') dollars++; else verbatim = true; i++; }
        int quotes = 0;
        while (i + quotes < s.Length && s[i + quotes] == '"') quotes++;
        var text = new StringBuilder();
        if (quotes >= 3)
        {
            // raw literal: ends at the same number of quotes; holes open with `dollars` braces
            i += quotes;
            string end = new('"', quotes), open = new('{', Math.Max(dollars, 1));
            while (i < s.Length && string.CompareOrdinal(s, i, end, 0, quotes) != 0)
            {
                if (dollars > 0 && string.CompareOrdinal(s, i, open, 0, open.Length) == 0) { i += open.Length; Code(s, ref i, '}', found); continue; }
                text.Append(s[i++]);
            }
            i += quotes;
        }
        else
        {
            i++;
            while (i < s.Length)
            {
                char c = s[i];
                if (c == '\\' && !verbatim) { text.Append(c).Append(s[i + 1]); i += 2; continue; }
                if (c == '"')
                {
                    if (verbatim && i + 1 < s.Length && s[i + 1] == '"') { text.Append('"'); i += 2; continue; }
                    i++;
                    break;
                }
                if (dollars > 0 && c == '{')
                {
                    if (s[i + 1] == '{') { text.Append('{'); i += 2; continue; }
                    i++;
                    text.Append(' ');
                    Code(s, ref i, '}', found);
                    continue;
                }
                text.Append(c);
                i++;
            }
        }
        found.Add((LineAt(s, start), text.ToString()));
    }
}
