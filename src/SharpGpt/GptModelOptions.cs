namespace SharpGpt;

/// <summary>How <see cref="GptModel.Open"/> and <see cref="GptModel.Create"/> set up a model.</summary>
public sealed record GptModelOptions
{
    /// <summary>What the kernels run on; <see cref="ComputeDevice.Auto"/> by default.</summary>
    public ComputeDevice Device { get; init; }

    /// <summary>fp32 (the default), or bf16 mixed precision for the matrix multiplies (fp32 master weights,
    /// gradients and optimizer state).</summary>
    public Precision Precision { get; init; }

    /// <summary>CPU threads for the kernels (on a GPU: for the host's work); 0, the default, uses every core.</summary>
    public int Threads { get; init; }

    /// <summary>The tokenizer to use instead of the one the model file records. A model file that records none
    /// gets GPT-2's BPE when its vocabulary is GPT-2's (50,257) and otherwise has no tokenizer.</summary>
    public GptTokenizer? Tokenizer { get; init; }

    /// <summary>n_head for a Hugging Face model without config.json, whose tensor shapes do not tell it.</summary>
    public int? HuggingFaceHeads { get; init; }

    /// <summary>The seed of a new model's initial weights (<see cref="GptModel.Create"/>); 1337 by default.</summary>
    public ulong Seed { get; init; } = 1337;

    internal int ResolvedThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    internal void Validate()
    {
        if (Threads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Threads must be positive, or 0 for one per core.");
        }

        if (!Enum.IsDefined(Device))
        {
            throw new ArgumentOutOfRangeException(nameof(Device), Device, "Not a device.");
        }

        if (!Enum.IsDefined(Precision))
        {
            throw new ArgumentOutOfRangeException(nameof(Precision), Precision, "Not a precision.");
        }

        if (HuggingFaceHeads is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(HuggingFaceHeads), HuggingFaceHeads, "HuggingFaceHeads must be positive.");
        }
    }
}
