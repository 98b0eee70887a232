using BenchmarkDotNet.Running;

// Every [Benchmark] class in this assembly is listed; pick with --filter, e.g.
//   dotnet run -c Release --project bench/Anneal.Bench -- --filter '*Schedule*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
