using BenchmarkDotNet.Running;
using SharpGpt.Benchmarks;

if (args is ["generation-ab", ..])
{
    GenerationAlternation.Run(args);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
