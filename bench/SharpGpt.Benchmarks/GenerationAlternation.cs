using System.Diagnostics;
using System.Globalization;

namespace SharpGpt.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release -- generation-ab [rounds] [tokens]</c>: the three ways of <see cref="GenerationBenchmarks"/>
/// timed in alternation (engine loop, API Generate, API streaming, again and again), so that a machine whose speed
/// drifts during the run slows all three alike; prints each round and the medians of the per-round ratios.
/// </summary>
internal static class GenerationAlternation
{
    public static void Run(string[] args)
    {
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 9;
        foreach (string model in new[] { "char-4L-128", "gpt2vocab-6L-384" })
        {
            var bench = new GenerationBenchmarks { Model = model };
            bench.Setup();
            try
            {
                // One untimed round: the JIT, the decoder's cache, the thread's first run.
                bench.EngineLoop();
                bench.ApiGenerate();
                bench.ApiStreaming().GetAwaiter().GetResult();
                var ratios = new List<(double Generate, double Streaming)>();
                for (int round = 0; round < rounds; round++)
                {
                    double engine = Time(() => bench.EngineLoop());
                    double generate = Time(() => bench.ApiGenerate());
                    double streaming = Time(() => bench.ApiStreaming().GetAwaiter().GetResult());
                    ratios.Add((generate / engine, streaming / engine));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{model} round {round + 1}: engine loop {engine:F1} ms, API Generate {generate:F1} ms ({generate / engine:F3}), API streaming {streaming:F1} ms ({streaming / engine:F3})"));
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{model}: median ratio to the engine loop: Generate {Median(ratios.Select(r => r.Generate)):F3}, streaming {Median(ratios.Select(r => r.Streaming)):F3}"));
            }
            finally
            {
                bench.Cleanup();
            }
        }
    }

    private static double Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
