namespace SharpGpt.Training;

/// <summary>One process, one rank: every collective is the identity.</summary>
internal sealed unsafe class SingleProcess : ICollectives
{
    public int Rank => 0;

    public int WorldSize => 1;

    public void AllReduceSum(float* data, long count)
    {
    }

    public void AllReduceSum(Span<double> values)
    {
    }

    public void ReduceScatterSum(float* data, ReadOnlySpan<int> counts)
    {
    }

    public void AllGather(float* data, ReadOnlySpan<int> counts)
    {
    }

    public void Broadcast(void* data, long bytes, int root)
    {
    }

    public void Barrier()
    {
    }

    public void Dispose()
    {
    }
}
