using System.Numerics;
using System.Runtime.InteropServices;
using SharpGpt.Training;

namespace SharpGpt.Distributed;

/// <summary>
/// <see cref="ICollectives"/> for ranks that are threads of one process: data parallelism over the
/// cores of one machine, each core a rank with its own model replica, meeting once per optimizer step
/// instead of once per kernel. Each collective publishes the rank's buffer, waits for the others, and
/// reads their buffers directly; a second wait keeps any rank from changing its buffer while another
/// still reads it. Every rank sums in rank order, so all ranks get bit-identical results.
/// </summary>
internal sealed unsafe class ThreadCollectives : ICollectives
{
    private readonly ThreadGroup _group;
    private float* _scratch;
    private long _scratchFloats;

    public ThreadCollectives(ThreadGroup group, int rank)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, group.Size);
        _group = group;
        Rank = rank;
    }

    ~ThreadCollectives() => FreeScratch();

    public int Rank { get; }

    public int WorldSize => _group.Size;

    /// <summary>What the ranks share, for optimizers that read the other replicas' buffers directly (<see cref="ThreadRankAdamW"/>).</summary>
    public ThreadGroup Group => _group;

    /// <summary>Each rank sums its own slice of the buffer over all ranks and writes the sum into every rank's buffer.</summary>
    public void AllReduceSum(float* data, long count)
    {
        _group.PublishAndWait(Rank, data);
        var (start, end) = Slice(count);
        Sum(start, end - start, null);
        _group.Wait();
    }

    public void AllReduceSum(Span<double> values)
    {
        Span<double> sum = values.Length <= 32 ? stackalloc double[values.Length] : new double[values.Length];
        fixed (double* mine = values)
        {
            _group.PublishAndWait(Rank, mine);
            sum.Clear();
            for (int r = 0; r < WorldSize; r++)
            {
                var theirs = (double*)_group.Slot(r);
                for (int i = 0; i < sum.Length; i++)
                {
                    sum[i] += theirs[i];
                }
            }

            _group.Wait();
            sum.CopyTo(values);
        }
    }

    public void ReduceScatterSum(float* data, ReadOnlySpan<int> counts)
    {
        long offset = RequireOnePerRank(counts);
        int count = counts[Rank];
        float* sum = Scratch(count);
        _group.PublishAndWait(Rank, data);
        Sum(offset, count, sum);

        // The other ranks may still be reading this rank's buffer, whose start is their block 0.
        _group.Wait();
        new Span<float>(sum, count).CopyTo(new Span<float>(data, count));
    }

    public void AllGather(float* data, ReadOnlySpan<int> counts)
    {
        RequireOnePerRank(counts);
        _group.PublishAndWait(Rank, data);
        long offset = 0;
        for (int r = 0; r < WorldSize; r++)
        {
            if (r != Rank)
            {
                Copy((float*)_group.Slot(r) + offset, data + offset, counts[r]);
            }

            offset += counts[r];
        }

        _group.Wait();
    }

    public void Broadcast(void* data, long bytes, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, WorldSize);
        _group.PublishAndWait(Rank, data);
        if (Rank != root)
        {
            Buffer.MemoryCopy(_group.Slot(root), data, bytes, bytes);
        }

        _group.Wait();
    }

    public void Barrier() => _group.Wait();

    public void Dispose()
    {
        FreeScratch();
        GC.SuppressFinalize(this);
    }

    /// <summary>Rank <paramref name="rank"/>'s share of [0, count) among <paramref name="worldSize"/> ranks,
    /// cut at multiples of 16 floats (whole cache lines).</summary>
    public static (long Start, long End) Slice(long count, int rank, int worldSize)
    {
        long lines = (count + 15) / 16;
        long start = Math.Min(count, lines * rank / worldSize * 16);
        long end = Math.Min(count, lines * (rank + 1) / worldSize * 16);
        return (start, end);
    }

    private (long Start, long End) Slice(long count) => Slice(count, Rank, WorldSize);

    /// <summary>
    /// Sums [offset, offset + count) of every rank's buffer in rank order and writes the sum to
    /// <paramref name="destination"/>[0, count), or, when it is null, back into every rank's buffer.
    /// </summary>
    private void Sum(long offset, long count, float* destination)
    {
        int w = Vector<float>.Count;
        long i = 0;
        for (; i <= count - w; i += w)
        {
            var s = Vector.Load(RankBuffer(0) + offset + i);
            for (int r = 1; r < WorldSize; r++)
            {
                s += Vector.Load(RankBuffer(r) + offset + i);
            }

            if (destination != null)
            {
                s.Store(destination + i);
                continue;
            }

            for (int r = 0; r < WorldSize; r++)
            {
                s.Store(RankBuffer(r) + offset + i);
            }
        }

        for (; i < count; i++)
        {
            float s = RankBuffer(0)[offset + i];
            for (int r = 1; r < WorldSize; r++)
            {
                s += RankBuffer(r)[offset + i];
            }

            if (destination != null)
            {
                destination[i] = s;
                continue;
            }

            for (int r = 0; r < WorldSize; r++)
            {
                RankBuffer(r)[offset + i] = s;
            }
        }
    }

    private float* RankBuffer(int rank) => (float*)_group.Slot(rank);

    private static void Copy(float* source, float* destination, long count) =>
        Buffer.MemoryCopy(source, destination, count * sizeof(float), count * sizeof(float));

    /// <summary>Checks there is one count per rank and returns where this rank's block starts.</summary>
    private long RequireOnePerRank(ReadOnlySpan<int> counts)
    {
        if (counts.Length != WorldSize)
        {
            throw new ArgumentException($"{counts.Length} block counts given for {WorldSize} ranks.", nameof(counts));
        }

        long offset = 0;
        for (int r = 0; r < Rank; r++)
        {
            offset += counts[r];
        }

        return offset;
    }

    /// <summary>This rank's scratch, grown (never shrunk) to at least <paramref name="floats"/>.</summary>
    private float* Scratch(long floats)
    {
        if (floats > _scratchFloats)
        {
            FreeScratch();
            _scratch = (float*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, floats) * sizeof(float), 64);
            _scratchFloats = floats;
        }

        return _scratch;
    }

    private void FreeScratch()
    {
        NativeMemory.AlignedFree(_scratch);
        _scratch = null;
        _scratchFloats = 0;
    }
}
