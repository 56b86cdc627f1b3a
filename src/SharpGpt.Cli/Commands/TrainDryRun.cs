using SharpGpt.Data;
using SharpGpt.Eval;
using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Cli.Commands;

/// <summary><c>train --dry-run</c>: prints the resolved plan and, from a few timed micro-steps of the resolved model,
/// an estimate of the whole run's time on this machine; trains nothing and writes nothing. The last line is the plan
/// as one JSON object.</summary>
internal static class TrainDryRun
{
    public static int Run(GptModel model, ITextTokenizer tokenizer, TrainingOptions options, IReadOnlyList<TrainingSetting> settings, TrainingRecipe recipe,
        int worldSize, int threads, long? memoryBudget, int timedSteps)
    {
        if (timedSteps < 0)
        {
            throw new UserErrorException("--dry-run-steps", $"must be 0 or more, got {timedSteps}.");
        }

        long hellaSwagTokens = options.HellaSwagPath is null ? 0
            : new HellaSwagEvaluator(model, tokenizer, HellaSwagExample.Read(options.HellaSwagPath, options.HellaSwagLimit)).TokensPerPass;
        var plan = TrainingPlan.Create(recipe, model.Config, model.Kernels, options, worldSize, threads, memoryBudget, settings, hellaSwagTokens);
        TrainSettingSources.Print(recipe, settings);
        Console.WriteLine("plan (dry run, nothing is trained):");
        foreach (var line in plan.Describe())
        {
            Console.WriteLine($"  {line}");
        }

        MicroStepTiming? timing = null;
        if (timedSteps > 0)
        {
            model.Precision = options.Precision;
            timing = MicroStepTiming.Measure(model, options.MicroBatch, options.SeqLen, timedSteps, options.Seed);
        }

        foreach (var line in plan.DescribeEstimate(timing))
        {
            Console.WriteLine($"  {line}");
        }

        Console.WriteLine(plan.ToJson(timing));
        return 0;
    }
}
