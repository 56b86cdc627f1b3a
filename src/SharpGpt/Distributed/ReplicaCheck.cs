using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Distributed;

/// <summary>
/// Checks that every rank holds bit-identical weights: data parallelism only works if they start
/// the same (same seed, or the same checkpoint) and stay the same after every update.
/// </summary>
internal static unsafe class ReplicaCheck
{
    /// <summary>Throws on every rank, naming how many ranks differ from rank 0, when the weights are not identical.</summary>
    public static ulong RequireIdenticalWeights(GptNetwork model, ICollectives collectives, string when)
    {
        ulong mine;
        using (var weights = model.ReadParameters())
        {
            mine = Checksum(weights.Pointer, weights.Length);
        }

        ulong reference = mine;
        collectives.Broadcast(&reference, sizeof(ulong), root: 0);
        Span<double> differing = [mine == reference ? 0 : 1];
        collectives.AllReduceSum(differing);
        if (differing[0] > 0)
        {
            throw new InvalidOperationException(
                $"The weights {when} differ between ranks: {differing[0]} of {collectives.WorldSize} rank(s) disagree with rank 0 " +
                "(different seeds, checkpoints or code on the ranks?).");
        }

        return mine;
    }

    /// <summary>
    /// A position-dependent 64-bit checksum of the raw bits: sum of bits_i x (2i + 1) mod 2^64. Each
    /// multiplier is odd, so a change to any single float always changes it.
    /// </summary>
    public static ulong Checksum(float* data, long count)
    {
        var bits = (uint*)data;
        ulong sum = 0;
        for (long i = 0; i < count; i++)
        {
            sum += bits[i] * ((2UL * (ulong)i) + 1);
        }

        return sum;
    }
}
