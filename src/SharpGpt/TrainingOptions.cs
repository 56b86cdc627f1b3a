namespace SharpGpt;

/// <summary>
/// The settings of a training run: the GPT-2 recipe's batch, AdamW, warm-up and cosine schedule, gradient clipping,
/// evaluations and checkpoints. The defaults are a short GPT-2 run of one micro-batch per step; the published runs
/// are <see cref="TrainingRecipe"/>s (<c>TrainingRecipe.Gpt2_124M.Options</c>), and any property can be changed with
/// <c>with</c>. Nothing is written to disk unless <see cref="OutputDirectory"/> is set.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Optimizer steps; 1000 by default. Ignored when <see cref="Epochs"/> is set.</summary>
    public int MaxSteps { get; init; } = 1000;

    /// <summary>Passes over the train split, instead of <see cref="MaxSteps"/>: the steps are the passes times the
    /// steps one pass takes (rounded up). Null by default.</summary>
    public double? Epochs { get; init; }

    /// <summary>Tokens per sequence (T); null, the default, uses the model's block size.</summary>
    public int? SequenceLength { get; init; }

    /// <summary>Sequences per micro-step (B); 4 by default. Null picks the largest that divides the step and fits
    /// <see cref="MemoryBudgetBytes"/>.</summary>
    public int? MicroBatchSize { get; init; } = 4;

    /// <summary>Tokens per optimizer step, reached by gradient accumulation (B x T x accumulation steps); 0, the
    /// default, is one micro-batch per step.</summary>
    public long TotalBatchTokens { get; init; }

    /// <summary>The memory a null <see cref="MicroBatchSize"/> plans for; null: 8 GiB on the CPU, 92% of the free
    /// memory of a GPU.</summary>
    public long? MemoryBudgetBytes { get; init; }

    /// <summary>The peak learning rate, reached after <see cref="WarmupSteps"/>; 6e-4 by default.</summary>
    public float LearningRate { get; init; } = 6e-4f;

    /// <summary>The learning rate at the end of the cosine decay; null, the default, is 10% of <see cref="LearningRate"/>.</summary>
    public float? MinLearningRate { get; init; }

    /// <summary>Steps of linear warm-up; 10 by default.</summary>
    public int WarmupSteps { get; init; } = 10;

    /// <summary>AdamW's beta1; 0.9 by default.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>AdamW's beta2; 0.95 by default.</summary>
    public float Beta2 { get; init; } = 0.95f;

    /// <summary>AdamW's epsilon; 1e-8 by default.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>AdamW's weight decay, on matrices and embeddings (not on biases or LayerNorm); 0.1 by default.</summary>
    public float WeightDecay { get; init; } = 0.1f;

    /// <summary>The global gradient norm is clipped to this; 0 turns clipping off. 1 by default.</summary>
    public float GradientClip { get; init; } = 1f;

    /// <summary>Seeds the order of random-window batches and the samples; 1337 by default.</summary>
    public ulong Seed { get; init; } = 1337;

    /// <summary>How batches are drawn from the train split; <see cref="SharpGpt.BatchOrder.Sequential"/> by default.</summary>
    public BatchOrder BatchOrder { get; init; }

    /// <summary>Validate every this many steps, and after the last; 0 never validates. 250 by default.</summary>
    public int ValidationInterval { get; init; } = 250;

    /// <summary>Batches per validation; 0 reads the whole validation split. 20 by default.</summary>
    public int ValidationBatches { get; init; } = 20;

    /// <summary>Batches of the validation after the last step (0: the whole split); null, the default, is <see cref="ValidationBatches"/>.</summary>
    public int? FinalValidationBatches { get; init; }

    /// <summary>A HellaSwag validation file (JSON lines) to score during training; null, the default, scores none.</summary>
    public string? HellaSwagPath { get; init; }

    /// <summary>Score HellaSwag every this many steps, and after the last (0: only after the last); 250 by default.</summary>
    public int HellaSwagInterval { get; init; } = 250;

    /// <summary>Score only the first this many HellaSwag examples; 0, the default, scores all.</summary>
    public int HellaSwagLimit { get; init; }

    /// <summary>Generate a sample every this many steps (reported as <see cref="SampleGenerated"/>); 0, the default, never.</summary>
    public int SampleInterval { get; init; }

    /// <summary>Tokens in each sample; 200 by default.</summary>
    public int SampleTokens { get; init; } = 200;

    /// <summary>Where checkpoints (ckpt_STEP.sgpt) and metrics.jsonl are written; null, the default, writes nothing.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>Write a checkpoint every this many steps and after the last, into <see cref="OutputDirectory"/>;
    /// 0 writes none. 500 by default.</summary>
    public int CheckpointInterval { get; init; } = 500;

    /// <summary>How many of the newest checkpoints to keep (older ones are deleted); 0 keeps all. 2 by default.</summary>
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>Continue from the newest checkpoint in <see cref="OutputDirectory"/> (weights, optimizer state, data
    /// position and random state), giving exactly the run that was never stopped. False by default.</summary>
    public bool Resume { get; init; }

    /// <summary>How the CPU's threads share the work; <see cref="ThreadParallelism.Auto"/> by default.</summary>
    public ThreadParallelism Parallelism { get; init; }

    /// <summary>Under mpirun: 0 keeps every AdamW moment on every rank, 1 shards them (ZeRO-1).</summary>
    internal int ZeroStage { get; init; }

    /// <summary>Under mpirun: floats per collective call.</summary>
    internal long CollectiveChunkFloats { get; init; } = 4L << 20;

    internal void Validate()
    {
        Positive(MaxSteps, nameof(MaxSteps));
        if (Epochs is double epochs && !(epochs > 0 && double.IsFinite(epochs)))
        {
            throw new ArgumentOutOfRangeException(nameof(Epochs), epochs, "Epochs must be a positive number.");
        }

        if (SequenceLength is int t)
        {
            Positive(t, nameof(SequenceLength));
        }

        if (MicroBatchSize is int b)
        {
            Positive(b, nameof(MicroBatchSize));
        }

        NotNegative(TotalBatchTokens, nameof(TotalBatchTokens));
        if (MemoryBudgetBytes is long budget)
        {
            Positive(budget, nameof(MemoryBudgetBytes));
        }

        FiniteNotNegative(LearningRate, nameof(LearningRate));
        if (MinLearningRate is float min)
        {
            FiniteNotNegative(min, nameof(MinLearningRate));
        }

        NotNegative(WarmupSteps, nameof(WarmupSteps));
        Fraction(Beta1, nameof(Beta1));
        Fraction(Beta2, nameof(Beta2));
        if (!(Epsilon > 0) || !float.IsFinite(Epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "Epsilon must be a positive number.");
        }

        FiniteNotNegative(WeightDecay, nameof(WeightDecay));
        FiniteNotNegative(GradientClip, nameof(GradientClip));
        if (!Enum.IsDefined(BatchOrder))
        {
            throw new ArgumentOutOfRangeException(nameof(BatchOrder), BatchOrder, "Not a batch order.");
        }

        if (!Enum.IsDefined(Parallelism))
        {
            throw new ArgumentOutOfRangeException(nameof(Parallelism), Parallelism, "Not a parallelism.");
        }

        NotNegative(ValidationInterval, nameof(ValidationInterval));
        NotNegative(ValidationBatches, nameof(ValidationBatches));
        if (FinalValidationBatches is int final)
        {
            NotNegative(final, nameof(FinalValidationBatches));
        }

        NotNegative(HellaSwagInterval, nameof(HellaSwagInterval));
        NotNegative(HellaSwagLimit, nameof(HellaSwagLimit));
        NotNegative(SampleInterval, nameof(SampleInterval));
        NotNegative(SampleTokens, nameof(SampleTokens));
        NotNegative(CheckpointInterval, nameof(CheckpointInterval));
        NotNegative(KeepCheckpoints, nameof(KeepCheckpoints));
        if (ZeroStage is not (0 or 1))
        {
            throw new ArgumentOutOfRangeException(nameof(ZeroStage), ZeroStage, "The ZeRO stage must be 0 or 1.");
        }

        Positive(CollectiveChunkFloats, nameof(CollectiveChunkFloats));
        if (Resume && OutputDirectory is null)
        {
            throw new ArgumentException("Resuming needs the output folder of the run to resume.", nameof(OutputDirectory));
        }
    }

    internal float EffectiveMinLearningRate => MinLearningRate ?? LearningRate * 0.1f;

    private static void Positive(long value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
        }
    }

    private static void NotNegative(long value, string name)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be 0 or more.");
        }
    }

    private static void FiniteNotNegative(float value, string name)
    {
        if (!(value >= 0) || !float.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number >= 0.");
        }
    }

    private static void Fraction(float value, string name)
    {
        if (!(value >= 0 && value < 1))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1).");
        }
    }
}
