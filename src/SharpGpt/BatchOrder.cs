namespace SharpGpt;

/// <summary>How training draws its batches from the train split.</summary>
public enum BatchOrder
{
    /// <summary>In order, llm.c's way: each step reads the next B x T tokens of each rank's slice; a pass reads every token once.</summary>
    Sequential,

    /// <summary>Windows at random offsets, nanoGPT's way (seeded by <see cref="TrainingOptions.Seed"/>, so resumable).</summary>
    RandomWindows,
}
