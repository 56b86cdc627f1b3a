namespace SharpGpt.Distributed;

/// <summary>
/// Which floats of the parameter buffer each rank owns under ZeRO-1. The buffer is cut into rounds
/// of about one collective chunk; each round is split into one block per rank, in rank order, each
/// a multiple of 16 floats except in the last round. So each round is one contiguous, in-place
/// reduce-scatter and all-gather with no packing, and large buffers still go in chunks. A rank's
/// moments are its blocks of every round, stored back to back.
/// </summary>
internal sealed class ZeroPartition
{
    private const int Align = 16;

    public ZeroPartition(long total, int worldSize, int rank, long chunkFloats)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkFloats, 1);
        if (rank < 0 || rank >= worldSize)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} is outside 0..{worldSize - 1}.");
        }

        Total = total;
        WorldSize = worldSize;
        Rank = rank;
        long perRank = Math.Max(Align, Math.Min(chunkFloats / worldSize, int.MaxValue - Align) / Align * Align);
        int[] full = [.. Enumerable.Repeat((int)perRank, worldSize)];
        var rounds = new List<ZeroRound>();
        long start = 0, local = 0;
        while (start < total)
        {
            long remaining = total - start;
            int[] counts = full;
            if (remaining < perRank * worldSize)
            {
                // The last round: equal aligned blocks, the tail short (or empty) on the last ranks.
                long block = (remaining + worldSize - 1) / worldSize;
                block = (block + Align - 1) / Align * Align;
                counts = [.. Enumerable.Range(0, worldSize).Select(r => (int)Math.Clamp(remaining - (r * block), 0, block))];
            }

            var round = new ZeroRound(start, counts, counts.Take(rank).Sum(c => (long)c), local);
            rounds.Add(round);
            local += round.Counts[rank];
            start += round.Length;
        }

        Rounds = rounds;
        LocalCount = local;
    }

    public long Total { get; }

    public int WorldSize { get; }

    public int Rank { get; }

    public IReadOnlyList<ZeroRound> Rounds { get; }

    /// <summary>Floats this rank owns (the length of its moment buffers).</summary>
    public long LocalCount { get; }
}

/// <summary>One round: the floats [Start, Start + Length) of the buffer, block r of Counts[r] floats owned by rank r.</summary>
/// <param name="Offset">Where this rank's block starts, relative to Start.</param>
/// <param name="LocalStart">Where this rank's block starts in its moment buffers.</param>
internal sealed record ZeroRound(long Start, int[] Counts, long Offset, long LocalStart)
{
    public long Length { get; } = Counts.Sum(c => (long)c);
}
