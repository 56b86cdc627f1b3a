using System.Runtime.InteropServices;
using SharpGpt.Formats;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Distributed;

/// <summary>
/// ZeRO-1: AdamW with its moments sharded across ranks. Each optimizer step reduce-scatters the
/// gradients (each rank receives the sum of its own blocks only), computes the global norm from
/// the ranks' sums of squares, updates its blocks of the weights, and all-gathers the weights.
/// The moments take 2N/W floats per rank instead of 2N. The gradient buffer is left undefined
/// after <see cref="ReduceGradients"/> (the in-place reduce-scatter reuses it), so it costs no
/// extra memory.
/// </summary>
internal sealed unsafe class ZeroAdamW : IDistributedOptimizer
{
    private readonly GptNetwork _model;
    private readonly ICollectives _collectives;
    private readonly NativeBuffer _m;
    private readonly NativeBuffer _v;
    private readonly double* _partials;

    public ZeroAdamW(GptNetwork model, AdamWSettings settings, ICollectives collectives, long chunkFloats = MpiCollectives.DefaultChunkFloats)
    {
        _model = model;
        _collectives = collectives;
        Settings = settings;
        Partition = new ZeroPartition(model.Layout.Total, collectives.WorldSize, collectives.Rank, chunkFloats);
        _m = new NativeBuffer(Partition.LocalCount);
        _v = new NativeBuffer(Partition.LocalCount);
        int largestBlock = Partition.Rounds.Count == 0 ? 0 : Partition.Rounds.Max(r => r.Counts[collectives.Rank]);
        _partials = (double*)NativeMemory.AllocZeroed((nuint)Math.Max(1, GradientNorm.PartialCount(largestBlock)), sizeof(double));
    }

    public AdamWSettings Settings { get; }

    public ZeroPartition Partition { get; }

    public int Step { get; set; }

    public long MomentBytes => 2L * sizeof(float) * Partition.LocalCount;

    public double ReduceGradients()
    {
        var runner = _model.Kernels.Runner;
        float* grads = _model.Gradients.Pointer;
        int rank = _collectives.Rank;
        Span<double> squares = [0];
        foreach (var round in Partition.Rounds)
        {
            _collectives.ReduceScatterSum(grads + round.Start, round.Counts);
            squares[0] += GradientNorm.SumOfSquares(runner, grads + round.Start, round.Counts[rank], _partials);
        }

        _collectives.AllReduceSum(squares);
        return Math.Sqrt(squares[0]);
    }

    public void Update(float learningRate, float gradScale)
    {
        Step++;
        var layout = _model.Layout;
        var runner = _model.Kernels.Runner;
        var s = Settings;
        float* p = _model.Parameters.Pointer, g = _model.Gradients.Pointer, m = _m.Pointer, v = _v.Pointer;
        int rank = _collectives.Rank;
        foreach (var round in Partition.Rounds)
        {
            // This rank's block is [a, b) of the buffer; its summed gradients sit at the round's start.
            long a = round.Start + round.Offset, b = a + round.Counts[rank];
            float* grads = g + round.Start;
            for (int i = 0; i < ParameterLayout.TensorCount && a < b; i++)
            {
                // Weight decay is per tensor, and a block may cover parts of several tensors.
                long lo = Math.Max(a, layout.Offsets[i]), hi = Math.Min(b, layout.Offsets[i] + layout.Sizes[i]);
                if (lo >= hi)
                {
                    continue;
                }

                long local = round.LocalStart + (lo - a);
                float wd = s.DecayAll || ParameterLayout.IsDecayed(i) ? s.WeightDecay : 0f;
                AdamW.Update(runner, p + lo, grads + (lo - a), m + local, v + local, hi - lo, learningRate, s.Beta1, s.Beta2, s.Epsilon, wd, Step, gradScale);
            }

            _collectives.AllGather(p + round.Start, round.Counts);
        }

        // The exchange left partial sums all over the gradient buffer; the next step accumulates from zero.
        _model.ZeroGradients();
    }

    public void WriteMoments(Stream? destination)
    {
        long largest = Partition.Rounds.Count == 0 ? 0 : Partition.Rounds.Max(r => r.Length);
        using var staging = new NativeBuffer(largest);
        foreach (var moments in (NativeBuffer[])[_m, _v])
        {
            // One round at a time, so gathering the moments never needs more than a chunk of memory.
            foreach (var round in Partition.Rounds)
            {
                long count = round.Counts[_collectives.Rank];
                Buffer.MemoryCopy(moments.Pointer + round.LocalStart, staging.Pointer + round.Offset, count * sizeof(float), count * sizeof(float));
                _collectives.AllGather(staging.Pointer, round.Counts);
                if (destination is not null)
                {
                    DeviceMemoryExtensions.WriteHostFloats(destination, staging.Pointer, round.Length);
                }
            }
        }
    }

    public void ReadMoments(Stream source)
    {
        long start = source.Position, bytes = Partition.Total * sizeof(float);
        foreach (var (moments, at) in (ReadOnlySpan<(NativeBuffer, long)>)[(_m, start), (_v, start + bytes)])
        {
            foreach (var round in Partition.Rounds)
            {
                source.Seek(at + ((round.Start + round.Offset) * sizeof(float)), SeekOrigin.Begin);
                DeviceMemoryExtensions.ReadHostFloats(source, moments.Pointer + round.LocalStart, round.Counts[_collectives.Rank]);
            }
        }

        source.Seek(start + (2 * bytes), SeekOrigin.Begin);
    }

    public void Dispose()
    {
        _m.Dispose();
        _v.Dispose();
        NativeMemory.Free(_partials);
    }
}
