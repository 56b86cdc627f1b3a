namespace SharpGpt;

/// <summary>
/// A published training run's settings: the model's shape and the <see cref="TrainingOptions"/>, with where they
/// come from. <c>sharpgpt train --recipe NAME</c> starts from one, and so can code:
/// <c>GptModel.Create(recipe.Model!)</c>, then <c>model.Train(data, recipe.Options with { ... })</c>.
/// </summary>
public sealed record TrainingRecipe
{
    /// <summary>The name <see cref="FromName"/> finds it by.</summary>
    public required string Name { get; init; }

    /// <summary>Where the settings come from: the script and data of the published run.</summary>
    public required string Source { get; init; }

    /// <summary>The model's shape (its vocabulary is the data's); null when the recipe trains a given model (fine-tuning).</summary>
    public GptConfig? Model { get; init; }

    /// <summary>The run's settings.</summary>
    public TrainingOptions Options { get; init; } = new();

    /// <summary>The end of the cosine decay as a share of a learning rate that a caller changes without changing the
    /// end too (build-nanogpt: 0.1; llm.c's larger runs decay to 0).</summary>
    public float MinLearningRateFraction { get; init; } = 0.1f;

    /// <summary>Whether this is one of <see cref="Named"/> rather than a command's defaults.</summary>
    internal bool IsNamed => Named.Contains(this);

    /// <summary>How a setting taken from this recipe is labelled.</summary>
    internal string Label => IsNamed ? $"recipe {Name}" : "default";

    /// <summary>nanoGPT's shakespeare_char on the CPU (config/train_shakespeare_char.py with its CPU settings): a
    /// character-level model of 4 layers, 4 heads and 128 channels with a block of 64, batch 12 in random windows,
    /// 2000 steps, learning rate 1e-3 decaying to 1e-4, beta2 0.99. <c>sharpgpt train</c> with no arguments runs it
    /// on the embedded Tiny Shakespeare (<see cref="TrainingData.TinyShakespeare"/>).</summary>
    public static TrainingRecipe ShakespeareChar { get; } = new()
    {
        Name = "shakespeare-char",
        Source = "nanoGPT config/train_shakespeare_char.py, CPU settings",
        Model = new GptConfig(64, 65, 4, 4, 128),
        Options = new TrainingOptions
        {
            SequenceLength = 64,
            MicroBatchSize = 12,
            MaxSteps = 2000,
            LearningRate = 1e-3f,
            MinLearningRate = 1e-4f,
            WarmupSteps = 100,
            Beta2 = 0.99f,
            CheckpointInterval = 1000,
            BatchOrder = BatchOrder.RandomWindows,

            // Its last validation reads the whole (111k-character) split, the figure the README quotes.
            FinalValidationBatches = 0,
        },
    };

    /// <summary><c>train --data DIR</c> without a recipe: a short GPT-2 run of one micro-batch per step.</summary>
    internal static TrainingRecipe DataDefaults { get; } = new()
    {
        Name = "data-defaults",
        Source = "SharpGPT's defaults for --data",
        Options = new TrainingOptions { SequenceLength = 1024 },
    };

    /// <summary>build-nanogpt's GPT-2 124M run (train_gpt2.py): one pass over FineWeb-Edu's 10B-token sample in 19,073
    /// steps of 524,288 tokens, learning rate 6e-4 after 715 warm-up steps, decaying to 6e-5.</summary>
    public static TrainingRecipe Gpt2_124M { get; } = new()
    {
        Name = "gpt2-124m",
        Source = "build-nanogpt train_gpt2.py (FineWeb-Edu sample-10BT, one pass)",
        Model = GptConfig.Gpt2Small,
        Options = Pretraining with
        {
            MaxSteps = 19_073,
            LearningRate = 6e-4f,
            MinLearningRate = 6e-5f,
            WarmupSteps = 715,
            CheckpointInterval = 5000,
        },
    };

    /// <summary>llm.c's GPT-2 350M run (scripts/run_gpt2_350M.sh): 60,000 steps of 524,288 tokens, learning rate 3e-4 decaying to 0.</summary>
    public static TrainingRecipe Gpt2_350M { get; } = new()
    {
        Name = "gpt2-350m",
        Source = "llm.c scripts/run_gpt2_350M.sh (FineWeb 100B, 31.5B tokens)",
        Model = GptConfig.Gpt2Medium,
        MinLearningRateFraction = 0f,
        Options = Pretraining with
        {
            MaxSteps = 60_000,
            LearningRate = 3e-4f,
            MinLearningRate = 0f,
            WarmupSteps = 700,
            CheckpointInterval = 2000,
        },
    };

    /// <summary>llm.c's GPT-2 774M run (scripts/run_gpt2_774M.sh): 286,102 steps of 524,288 tokens, learning rate 2.5e-4 decaying to 0.</summary>
    public static TrainingRecipe Gpt2_774M { get; } = new()
    {
        Name = "gpt2-774m",
        Source = "llm.c scripts/run_gpt2_774M.sh (FineWeb 100B, 150B tokens)",
        Model = GptConfig.Gpt2Large,
        MinLearningRateFraction = 0f,
        Options = Pretraining with
        {
            MaxSteps = 286_102,
            LearningRate = 2.5e-4f,
            MinLearningRate = 0f,
            WarmupSteps = 700,
            CheckpointInterval = 4000,
        },
    };

    /// <summary>llm.c's GPT-2 1558M run (scripts/run_gpt2_1558M.sh): 32,000 steps of 1,048,576 tokens, learning rate 6e-4 decaying to 6e-5.</summary>
    public static TrainingRecipe Gpt2_1558M { get; } = new()
    {
        Name = "gpt2-1558m",
        Source = "llm.c scripts/run_gpt2_1558M.sh (FineWeb-Edu 100B, 33.6B tokens)",
        Model = GptConfig.Gpt2XL,
        Options = Pretraining with
        {
            TotalBatchTokens = 1_048_576,
            MaxSteps = 32_000,
            LearningRate = 6e-4f,
            MinLearningRate = 6e-5f,
            WarmupSteps = 700,
            CheckpointInterval = 2000,
        },
    };

    /// <summary>Fine-tuning a pretrained GPT-2 of any size on prepared prompt/completion or chat data (train
    /// <c>--recipe gpt2-finetune --init-from MODEL --data DIR</c>). From nanoGPT's config/finetune_shakespeare.py (GPT-2
    /// XL on Shakespeare): learning rate 3e-5, constant (decay_lr = False, no warm-up), 32 sequences of 1024 tokens a
    /// step (batch_size 1 x gradient_accumulation_steps 32), validation every 5 steps on 40 batches (eval_interval,
    /// eval_iters). From instruction tuning (Stanford Alpaca's train.py and Hugging Face TRL's SFTTrainer defaults):
    /// 3 epochs (<see cref="TrainingOptions.Epochs"/>; give <c>MaxSteps</c> and no epochs to count steps instead),
    /// no weight decay, and a context of 1024 tokens (TRL's max_length). AdamW's betas and the clipping at 1.0 are
    /// nanoGPT's. The micro-batch is fitted to memory, as the pre-training recipes do. Nothing depends on the model's
    /// size: nanoGPT uses these settings for GPT-2 XL.</summary>
    public static TrainingRecipe Gpt2Finetune { get; } = new()
    {
        Name = "gpt2-finetune",
        Source = "nanoGPT config/finetune_shakespeare.py (lr 3e-5 constant, 32 x 1024 tokens a step, val every 5 steps); Stanford Alpaca and TRL SFTTrainer (3 epochs, no weight decay, max length 1024)",
        MinLearningRateFraction = 1f,
        Options = new TrainingOptions
        {
            SequenceLength = 1024,
            MicroBatchSize = null,
            TotalBatchTokens = 32 * 1024,
            Epochs = 3,
            LearningRate = 3e-5f,
            MinLearningRate = 3e-5f,
            WarmupSteps = 0,
            WeightDecay = 0f,
            ValidationInterval = 5,
            ValidationBatches = 40,
        },
    };

    /// <summary>The recipes <see cref="FromName"/> finds.</summary>
    public static IReadOnlyList<TrainingRecipe> Named => [Gpt2_124M, Gpt2_350M, Gpt2_774M, Gpt2_1558M, Gpt2Finetune];

    /// <summary>A named recipe.</summary>
    /// <param name="name">Its <see cref="Name"/>, in any case.</param>
    /// <returns>The recipe.</returns>
    /// <exception cref="ArgumentException">No recipe has that name.</exception>
    public static TrainingRecipe FromName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Named.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown recipe '{name}'; known: {string.Join(", ", Named.Select(r => r.Name))}.", nameof(name));
    }

    // What the GPT-2 pre-training recipes share: T = 1024, 0.5M tokens a step, the micro-batch fitted to memory.
    private static TrainingOptions Pretraining => new()
    {
        SequenceLength = 1024,
        MicroBatchSize = null,
        TotalBatchTokens = 524_288,
    };
}
