using System.Numerics;
using System.Runtime.InteropServices;
using SharpGpt.Formats;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Distributed;

/// <summary>
/// AdamW for ranks that are threads of one process, each rank owning one slice of the parameter
/// buffer (whole cache lines, <see cref="ThreadCollectives.Slice(long)"/>). <see cref="ReduceGradients"/>
/// sums the ranks' gradients over the slice straight from their buffers into its own, with the
/// slice's sum of squares in the same pass; <see cref="Update"/> runs AdamW over the slice with the
/// slice's moments, writes the new weights into every replica and clears the slice of every
/// replica's gradients. So no rank repeats another's work, each buffer is crossed once per step,
/// and the moments take 2N/W floats per rank. The weights are bit-identical to
/// <see cref="ReplicatedAdamW"/>'s for the same norm. The norm itself is summed in other blocks
/// (each in float, as <see cref="GradientNorm"/> does), so it differs from ReplicatedAdamW's by
/// about 1e-8 relative, which now and then moves a clipping scale by one float ulp; it is the
/// same on every rank.
/// </summary>
internal sealed unsafe class ThreadRankAdamW : IDistributedOptimizer
{
    // Floats per part of the runner's loops (a multiple of the cache line, so a slice's parts start on one).
    private const int Block = 16384;

    private readonly GptNetwork _model;
    private readonly ThreadCollectives _collectives;
    private readonly long _start;
    private readonly long _end;
    private readonly NativeBuffer _m;
    private readonly NativeBuffer _v;

    // Every rank's buffers in rank order, exchanged once: the replicas' weights and gradients, and the moments (for WriteMoments).
    private readonly float** _parameters;
    private readonly float** _gradients;
    private readonly float** _firstMoments;
    private readonly float** _secondMoments;
    private readonly double* _partials;

    public ThreadRankAdamW(GptNetwork model, AdamWSettings settings, ThreadCollectives collectives)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(collectives);
        _model = model;
        _collectives = collectives;
        Settings = settings;
        (_start, _end) = ThreadCollectives.Slice(model.Layout.Total, collectives.Rank, collectives.WorldSize);
        _m = new NativeBuffer(_end - _start);
        _v = new NativeBuffer(_end - _start);
        int ranks = collectives.WorldSize;
        _parameters = Pointers(ranks);
        _gradients = Pointers(ranks);
        _firstMoments = Pointers(ranks);
        _secondMoments = Pointers(ranks);
        _partials = (double*)NativeMemory.AllocZeroed((nuint)Math.Max(1, Parts(_end - _start)), sizeof(double));

        // Every rank constructs its optimizer at the same point, so this is a collective.
        var group = collectives.Group;
        float** mine = stackalloc float*[] { model.Parameters.Pointer, model.Gradients.Pointer, _m.Pointer, _v.Pointer };
        group.PublishAndWait(collectives.Rank, mine);
        for (int r = 0; r < ranks; r++)
        {
            var theirs = (float**)group.Slot(r);
            _parameters[r] = theirs[0];
            _gradients[r] = theirs[1];
            _firstMoments[r] = theirs[2];
            _secondMoments[r] = theirs[3];
        }

        group.Wait();
    }

    public AdamWSettings Settings { get; }

    public int Step { get; set; }

    public long MomentBytes => 2L * sizeof(float) * (_end - _start);

    public double ReduceGradients()
    {
        // Every rank's backward must be done before anyone reads its gradients.
        _collectives.Barrier();
        var args = new ReduceArgs
        {
            Gradients = _gradients,
            Ranks = _collectives.WorldSize,
            Rank = _collectives.Rank,
            Start = _start,
            End = _end,
            Partials = _partials,
        };
        int parts = Parts(_end - _start);
        _model.Kernels.Runner.For(parts, &ReduceBlock, &args);

        // In rank order, so every rank gets the same bits; its waits also keep any rank from
        // updating (and clearing gradients) before every rank has read what it needs.
        Span<double> squares = [0];
        for (int i = 0; i < parts; i++)
        {
            squares[0] += _partials[i];
        }

        _collectives.AllReduceSum(squares);
        return Math.Sqrt(squares[0]);
    }

    public void Update(float learningRate, float gradScale)
    {
        Step++;

        // Taking the weights marks this replica's bf16 copy stale; the other ranks write their
        // slices of it too, and the barrier below keeps its next forward until they are done.
        _ = _model.Parameters;
        var layout = _model.Layout;
        var s = Settings;
        var args = new UpdateArgs
        {
            Parameters = _parameters,
            Gradients = _gradients,
            M = _m.Pointer - _start,
            V = _v.Pointer - _start,
            Ranks = _collectives.WorldSize,
            Rank = _collectives.Rank,
        };
        var rule = new AdamW.Rule(learningRate, s.Beta1, s.Beta2, s.Epsilon, s.WeightDecay, Step, gradScale);

        // Weight decay is per tensor (unless it decays all), and the slice may cover parts of several tensors.
        for (int i = 0; i < ParameterLayout.TensorCount; i++)
        {
            long lo = s.DecayAll ? _start : Math.Max(_start, layout.Offsets[i]);
            long hi = s.DecayAll ? _end : Math.Min(_end, layout.Offsets[i] + layout.Sizes[i]);
            if (lo < hi)
            {
                args.Start = lo;
                args.End = hi;
                args.Rule = rule.WithWeightDecay(s.DecayAll || ParameterLayout.IsDecayed(i) ? s.WeightDecay : 0f);
                _model.Kernels.Runner.For(Parts(hi - lo), &UpdateBlock, &args);
            }

            if (s.DecayAll)
            {
                break;
            }
        }

        _collectives.Barrier();
    }

    public void WriteMoments(Stream? destination)
    {
        // The writer reads the others' moments once every rank is done changing them (an update,
        // a read), and they wait until it has, so they change nothing while it reads.
        _collectives.Barrier();
        if (destination is not null)
        {
            WriteSlices(destination, _firstMoments);
            WriteSlices(destination, _secondMoments);
        }

        _collectives.Barrier();
    }

    public void ReadMoments(Stream source)
    {
        long start = source.Position, bytes = _model.Layout.Total * sizeof(float);
        source.Seek(start + (_start * sizeof(float)), SeekOrigin.Begin);
        DeviceMemoryExtensions.ReadHostFloats(source, _m.Pointer, _end - _start);
        source.Seek(start + bytes + (_start * sizeof(float)), SeekOrigin.Begin);
        DeviceMemoryExtensions.ReadHostFloats(source, _v.Pointer, _end - _start);
        source.Seek(start + (2 * bytes), SeekOrigin.Begin);
    }

    public void Dispose()
    {
        _m.Dispose();
        _v.Dispose();
        NativeMemory.Free(_parameters);
        NativeMemory.Free(_gradients);
        NativeMemory.Free(_firstMoments);
        NativeMemory.Free(_secondMoments);
        NativeMemory.Free(_partials);
    }

    /// <summary>Writes every rank's slice of one moment buffer, in rank order: the full layout.</summary>
    private void WriteSlices(Stream destination, float** slices)
    {
        for (int r = 0; r < _collectives.WorldSize; r++)
        {
            var (start, end) = ThreadCollectives.Slice(_model.Layout.Total, r, _collectives.WorldSize);
            DeviceMemoryExtensions.WriteHostFloats(destination, slices[r], end - start);
        }
    }

    private static int Parts(long count) => (int)((count + Block - 1) / Block);

    private static float** Pointers(int ranks) => (float**)NativeMemory.AllocZeroed((nuint)ranks, (nuint)sizeof(float*));

    private struct ReduceArgs
    {
        public float** Gradients;
        public double* Partials;
        public long Start, End;
        public int Ranks, Rank;
    }

    private struct UpdateArgs
    {
        public float** Parameters, Gradients;
        public float* M, V; // indexed like the buffer: valid over [Start, End) only
        public long Start, End;
        public int Ranks, Rank;
        public AdamW.Rule Rule;
    }

    /// <summary>
    /// Sums one block of the slice over the ranks in rank order (as <see cref="ThreadCollectives"/> does)
    /// into this rank's gradients, and its sum of squares into a partial, accumulated as
    /// <see cref="GradientNorm"/> does (<see cref="GradientNorm.SquareSum"/>).
    /// </summary>
    private static void ReduceBlock(int part, void* p)
    {
        var a = (ReduceArgs*)p;
        long start = a->Start + ((long)part * Block), end = Math.Min(a->End, start + Block);
        float** g = a->Gradients;
        float* mine = g[a->Rank];
        int ranks = a->Ranks;
        var squares = default(GradientNorm.SquareSum);
        long i = start;
        for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
        {
            var s = Vector.Load(g[0] + i);
            for (int r = 1; r < ranks; r++)
            {
                s += Vector.Load(g[r] + i);
            }

            s.Store(mine + i);
            squares.Add(s);
        }

        squares.EndVectors();
        for (; i < end; i++)
        {
            float s = g[0][i];
            for (int r = 1; r < ranks; r++)
            {
                s += g[r][i];
            }

            mine[i] = s;
            squares.Add(s);
        }

        a->Partials[part] = squares.Total;
    }

    /// <summary>
    /// AdamW over one block of a range of the slice, by <see cref="AdamW.Rule"/> as the plain kernel:
    /// reads this rank's summed gradients and weights, writes the weights into every replica and clears
    /// the gradients in every replica.
    /// </summary>
    private static void UpdateBlock(int part, void* p)
    {
        var a = (UpdateArgs*)p;
        long start = a->Start + ((long)part * Block), end = Math.Min(a->End, start + Block);
        float** weights = a->Parameters;
        float** grads = a->Gradients;
        float* mine = weights[a->Rank];
        float* myGrads = grads[a->Rank];
        int ranks = a->Ranks;
        var rule = a->Rule;
        long i = start;
        for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
        {
            var m = Vector.Load(a->M + i);
            var v = Vector.Load(a->V + i);
            var w = rule.Apply(Vector.Load(myGrads + i), ref m, ref v, Vector.Load(mine + i));
            Vector.Store(m, a->M + i);
            Vector.Store(v, a->V + i);
            for (int r = 0; r < ranks; r++)
            {
                Vector.Store(w, weights[r] + i);
                Vector.Store(Vector<float>.Zero, grads[r] + i);
            }
        }

        for (; i < end; i++)
        {
            float w = rule.Apply(myGrads[i], ref a->M[i], ref a->V[i], mine[i]);
            for (int r = 0; r < ranks; r++)
            {
                weights[r][i] = w;
                grads[r][i] = 0;
            }
        }
    }
}
