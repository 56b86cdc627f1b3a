using System.CommandLine;
using SharpGpt.Eval;
using SharpGpt.Training;

namespace SharpGpt.Cli.Commands;

/// <summary><c>train --dry-run</c>: prints the resolved plan and, from a few timed micro-steps of the resolved model,
/// an estimate of the whole run's time on this machine; trains nothing and writes nothing. The last line is the plan
/// as one JSON object. A diagnostic: it reads the engine's plan, which the library does not publish.</summary>
internal static class TrainDryRun
{
    public static int Run(ParseResult r, GptModel model, TrainingData data, TrainingOptions options, TrainingRecipe recipe, int worldSize, int timedSteps)
    {
        if (timedSteps < 0)
        {
            throw new SharpGptException("--dry-run-steps", $"must be 0 or more, got {timedSteps}.");
        }

        var (settings, planned, _) = TrainingRun.Resolve(model, data, options, worldSize);
        var network = model.Network;
        foreach (var note in planned.Notes.Where(n => n.StartsWith("micro-batch auto", StringComparison.Ordinal)))
        {
            Console.WriteLine(note);
        }

        long hellaSwagTokens = settings.HellaSwagPath is null ? 0
            : new HellaSwagEvaluator(network, data.Tokenizer, HellaSwagExample.Read(settings.HellaSwagPath, settings.HellaSwagLimit)).TokensPerPass;
        var sources = TrainSettingSources.Describe(r, recipe, model.Config, planned.Options);
        long? budget = options.MicroBatchSize is null ? TrainingRun.MemoryBudget(model, options) : null;
        var plan = TrainingPlan.Create(recipe, model.Config, network.Kernels, settings, worldSize, model.Runner.Threads, budget, sources, hellaSwagTokens);
        TrainSettingSources.Print(recipe, sources);
        Console.WriteLine("plan (dry run, nothing is trained):");
        foreach (var line in plan.Describe())
        {
            Console.WriteLine($"  {line}");
        }

        MicroStepTiming? timing = timedSteps > 0 ? MicroStepTiming.Measure(network, settings.MicroBatch, settings.SeqLen, timedSteps, settings.Seed) : null;
        foreach (var line in plan.DescribeEstimate(timing))
        {
            Console.WriteLine($"  {line}");
        }

        Console.WriteLine(plan.ToJson(timing));
        return 0;
    }
}
