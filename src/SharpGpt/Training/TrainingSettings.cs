using SharpGpt.Devices;

namespace SharpGpt.Training;

/// <summary>Every setting of a training run, resolved (the batch, the sequence length, the learning-rate floor are
/// known): what <see cref="Trainer"/> runs. <see cref="TrainingOptions"/> is the public face that resolves to it.</summary>
internal sealed record TrainingSettings
{
    public required TrainingData Data { get; init; }

    /// <summary>Where checkpoints and metrics.jsonl go; null writes nothing (and a stop request just ends the run).</summary>
    public string? OutDir { get; init; }

    public int MicroBatch { get; init; } = 4;

    public int SeqLen { get; init; } = 1024;

    /// <summary>Tokens per optimizer step over all micro-steps and ranks; 0 = one micro-batch per rank.</summary>
    public long TotalBatchTokens { get; init; }

    public int MaxSteps { get; init; } = 1000;

    /// <summary>Training batches from random windows of the shards (nanoGPT) instead of the sequential order (llm.c).</summary>
    public bool RandomWindows { get; init; }

    public float LearningRate { get; init; } = 6e-4f;

    /// <summary>Floor of the cosine decay; null = 10% of the learning rate.</summary>
    public float? MinLearningRate { get; init; }

    public int WarmupSteps { get; init; } = 10;

    public AdamWSettings Adam { get; init; } = new();

    public float GradClip { get; init; } = 1.0f;

    public ulong Seed { get; init; } = 1337;

    /// <summary>Validate every N steps and after the last step; 0 = never.</summary>
    public int ValEvery { get; init; } = 250;

    /// <summary>Validation batches per evaluation (0 = the whole split).</summary>
    public int ValSteps { get; init; } = 20;

    /// <summary>Validation batches after the last step (0 = the whole split); null = <see cref="ValSteps"/>.</summary>
    public int? FinalValSteps { get; init; }

    public int SampleEvery { get; init; }

    /// <summary>Tokens of a sample printed during training.</summary>
    public int SampleTokens { get; init; } = 200;

    /// <summary>Write a checkpoint every N steps and after the last (with <see cref="OutDir"/>); 0 = only after the last.</summary>
    public int CheckpointEvery { get; init; } = 500;

    /// <summary>How many of the newest checkpoints to keep (older ones are deleted); 0 keeps all.</summary>
    public int KeepCheckpoints { get; init; } = 2;

    public bool Resume { get; init; }

    /// <summary>HellaSwag validation JSONL to score during training (null = off); acc_norm is logged as hella_acc.</summary>
    public string? HellaSwagPath { get; init; }

    /// <summary>Score HellaSwag every N steps (0 = only after the last step).</summary>
    public int HellaSwagEvery { get; init; } = 250;

    /// <summary>HellaSwag examples to score (the first N of the file); 0 = all.</summary>
    public int HellaSwagLimit { get; init; }

    /// <summary>0: every rank holds all AdamW moments; 1: ZeRO-1, the moments are sharded across ranks.</summary>
    public int ZeroStage { get; init; }

    /// <summary>fp32, or bf16 mixed precision for the matmuls (master weights, gradients and AdamW stay fp32).</summary>
    public Precision Precision { get; init; }

    /// <summary>The device the model's kernels run on; recorded in checkpoints so a resume on another one says so.</summary>
    public DeviceKind Device { get; init; }

    /// <summary>Floats per collective call when ZeRO-1 reduce-scatters gradients and all-gathers weights.</summary>
    public long CollectiveChunkFloats { get; init; } = 4L << 20;

    public float EffectiveMinLearningRate => MinLearningRate ?? LearningRate * 0.1f;
}
