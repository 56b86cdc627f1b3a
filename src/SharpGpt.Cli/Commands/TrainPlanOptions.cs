using System.CommandLine;
using SharpGpt.Training;

namespace SharpGpt.Cli.Commands;

/// <summary>The options of <c>train</c> that choose a recipe and ask for the plan instead of the run.</summary>
internal static class TrainPlanOptions
{
    public static (Option<string?> Recipe, Option<bool> DryRun, Option<int> DryRunSteps) Create()
    {
        var recipe = new Option<string?>("--recipe")
        {
            Description = "Start from a published run's settings; any flag given overrides them: "
                + string.Join("; ", TrainingRecipe.Named.Select(r => $"{r.Name} ({r.Source})")),
        };
        recipe.AcceptOnlyFromAmong([.. TrainingRecipe.Named.Select(r => r.Name)]);
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Resolve everything (recipe, flags, data, memory), time a few micro-steps and print the plan and an estimate of the run's time, without training; the last line is the plan as JSON",
        };
        var dryRunSteps = new Option<int>("--dry-run-steps")
        {
            Description = "Micro-steps the dry run times after a warm-up (0 = no timing, no estimate)",
            DefaultValueFactory = _ => 2,
        };
        return (recipe, dryRun, dryRunSteps);
    }
}
