using BenchmarkDotNet.Running;

// `band-calibration` recomputes the auto band's constants and their leave-one-corpus-out coverage
// (docs/laws.md); anything else goes to BenchmarkDotNet.
// Every [Benchmark] class in this assembly is listed; pick with --filter, e.g.
//   dotnet run -c Release --project bench/Anneal.Bench -- --filter '*Schedule*'
if (args is ["band-calibration", ..])
{
    Anneal.Bench.BandCalibration.Run(args.Length > 1 ? args[1] : ".");
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
