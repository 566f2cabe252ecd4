using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Mesh.Benchmarks.RouteBenchmarks).Assembly).Run(args);
