namespace SharpGpt.Training;

/// <summary>
/// The settings a run starts from: a published recipe chosen with <c>train --recipe NAME</c>, or the defaults of
/// <c>train</c> (with or without --data). Every flag given explicitly overrides the recipe's value.
/// </summary>
public sealed record TrainingRecipe(string Name, string Source)
{
    /// <summary>Model size (<see cref="Model.GptConfig.FromPreset"/>); null: from the data (a small char model or GPT-2 124M).</summary>
    public string? Preset { get; init; }

    public int BlockSize { get; init; } = 1024;

    public int SeqLen { get; init; } = 1024;

    /// <summary>Sequences per micro-step, unless <see cref="AutoMicroBatch"/>.</summary>
    public int MicroBatch { get; init; } = 4;

    /// <summary>Pick the largest micro-batch that fits the memory budget (<c>--micro-batch auto</c>).</summary>
    public bool AutoMicroBatch { get; init; }

    /// <summary>Tokens per optimizer step; 0 = one micro-batch.</summary>
    public long TotalBatchTokens { get; init; }

    public int MaxSteps { get; init; } = 1000;

    public float Lr { get; init; } = 6e-4f;

    /// <summary>The end of the cosine decay; null: 10% of the learning rate.</summary>
    public float? MinLr { get; init; }

    /// <summary>The end of the cosine decay as a share of a learning rate given with --lr (build-nanogpt: 0.1).</summary>
    public float MinLrFraction { get; init; } = 0.1f;

    public int Warmup { get; init; } = 10;

    public float Beta1 { get; init; } = 0.9f;

    public float Beta2 { get; init; } = 0.95f;

    public float Eps { get; init; } = 1e-8f;

    public float WeightDecay { get; init; } = 0.1f;

    public float GradClip { get; init; } = 1.0f;

    public int ValEvery { get; init; } = 250;

    public int ValSteps { get; init; } = 20;

    /// <summary>Validation batches after the last step when neither --val-steps nor --final-val-steps is given; null = <see cref="ValSteps"/>.</summary>
    public int? FinalValSteps { get; init; }

    public int HellaSwagEvery { get; init; } = 250;

    public int CheckpointEvery { get; init; } = 500;

    public int SampleEvery { get; init; }

    /// <summary>"sequential" (llm.c) or "random" windows (nanoGPT).</summary>
    public string Batches { get; init; } = "sequential";

    /// <summary>Whether this is one of <see cref="Named"/> rather than the command's defaults.</summary>
    public bool IsNamed => Named.Contains(this);

    /// <summary>How a setting taken from this recipe is labelled.</summary>
    public string Label => IsNamed ? $"recipe {Name}" : "default";

    /// <summary><c>train</c> with no --data: nanoGPT's shakespeare_char on CPU (4 layers, 4 heads, 128 dims, block 64,
    /// batch 12, 2000 iterations, lr 1e-3 -> 1e-4).</summary>
    public static TrainingRecipe TinyShakespeare { get; } = new("tiny-shakespeare", "nanoGPT config/train_shakespeare_char.py, CPU settings")
    {
        BlockSize = 64,
        SeqLen = 64,
        MicroBatch = 12,
        MaxSteps = 2000,
        Lr = 1e-3f,
        MinLr = 1e-4f,
        Warmup = 100,
        Beta2 = 0.99f,
        CheckpointEvery = 1000,
        Batches = "random",

        // Its last validation reads the whole (111k-character) split, the figure the README quotes.
        FinalValSteps = 0,
    };

    /// <summary><c>train --data DIR</c> without a recipe: a short GPT-2 run of one micro-batch per step.</summary>
    public static TrainingRecipe DataDefaults { get; } = new("data-defaults", "SharpGPT's defaults for --data");

    /// <summary>build-nanogpt's GPT-2 124M run: one pass over FineWeb-Edu's 10B-token sample.</summary>
    public static TrainingRecipe Gpt2_124M { get; } = new("gpt2-124m", "build-nanogpt train_gpt2.py (FineWeb-Edu sample-10BT, one pass)")
    {
        Preset = "gpt2-124m",
        AutoMicroBatch = true,
        TotalBatchTokens = 524_288,
        MaxSteps = 19_073,
        Lr = 6e-4f,
        MinLr = 6e-5f,
        Warmup = 715,
        CheckpointEvery = 5000,
    };

    /// <summary>llm.c's GPT-2 350M run (scripts/run_gpt2_350M.sh): 60,000 steps of 0.5M tokens, lr 3e-4 decaying to 0.</summary>
    public static TrainingRecipe Gpt2_350M { get; } = new("gpt2-350m", "llm.c scripts/run_gpt2_350M.sh (FineWeb 100B, 31.5B tokens)")
    {
        Preset = "gpt2-350m",
        AutoMicroBatch = true,
        TotalBatchTokens = 524_288,
        MaxSteps = 60_000,
        Lr = 3e-4f,
        MinLr = 0f,
        MinLrFraction = 0f,
        Warmup = 700,
        CheckpointEvery = 2000,
    };

    /// <summary>llm.c's GPT-2 774M run (scripts/run_gpt2_774M.sh): 286,102 steps of 0.5M tokens, lr 2.5e-4 decaying to 0.</summary>
    public static TrainingRecipe Gpt2_774M { get; } = new("gpt2-774m", "llm.c scripts/run_gpt2_774M.sh (FineWeb 100B, 150B tokens)")
    {
        Preset = "gpt2-774m",
        AutoMicroBatch = true,
        TotalBatchTokens = 524_288,
        MaxSteps = 286_102,
        Lr = 2.5e-4f,
        MinLr = 0f,
        MinLrFraction = 0f,
        Warmup = 700,
        CheckpointEvery = 4000,
    };

    /// <summary>llm.c's GPT-2 1558M run (scripts/run_gpt2_1558M.sh): 32,000 steps of 1M tokens, lr 6e-4 decaying to 6e-5.</summary>
    public static TrainingRecipe Gpt2_1558M { get; } = new("gpt2-1558m", "llm.c scripts/run_gpt2_1558M.sh (FineWeb-Edu 100B, 33.6B tokens)")
    {
        Preset = "gpt2-1558m",
        AutoMicroBatch = true,
        TotalBatchTokens = 1_048_576,
        MaxSteps = 32_000,
        Lr = 6e-4f,
        MinLr = 6e-5f,
        Warmup = 700,
        CheckpointEvery = 2000,
    };

    /// <summary>The recipes <c>--recipe</c> accepts.</summary>
    public static IReadOnlyList<TrainingRecipe> Named => [Gpt2_124M, Gpt2_350M, Gpt2_774M, Gpt2_1558M];

    /// <summary>The recipe a run starts from: the named one, else the defaults for training with or without --data.</summary>
    public static TrainingRecipe Resolve(string? name, bool hasData)
    {
        if (name is null)
        {
            return hasData ? DataDefaults : TinyShakespeare;
        }

        var recipe = Named.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new UserErrorException("--recipe", $"unknown recipe '{name}'", $"known: {string.Join(", ", Named.Select(r => r.Name))}");
        return hasData ? recipe : throw new UserErrorException($"--recipe {recipe.Name}", "trains on GPT-2 tokens and needs --data", "give --data DIR, made by 'sharpgpt prepare'");
    }
}
