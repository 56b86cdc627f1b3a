using SharpGpt.Kernels;

namespace SharpGpt.Model;

/// <summary>
/// GPT-2: token + position embeddings, pre-LayerNorm blocks (attention, 4x GELU MLP), final
/// LayerNorm and an lm_head tied to the token embedding. Parameters and gradients each live in
/// one contiguous buffer; activations are allocated once per (B, T) and reused. In bf16
/// <see cref="Precision"/> the matmuls read a bf16 copy of the parameters (same layout).
/// All of it is the kernel backend's memory (a GPU's, or the host's): the model reaches it only
/// through the backend's kernels and copies. The host keeps the batch's token ids and losses.
/// </summary>
internal sealed unsafe class GptNetwork : IDisposable
{
    private readonly IGptKernels _k;
    private readonly DeviceBuffer _parameters;
    private DeviceBuffer? _gradients;
    private DeviceBuffer? _bf16Weights;
    private bool _bf16WeightsStale;
    private Precision _precision;
    private Activations? _acts;
    private bool _hasTargets;
    private bool _hasLogits;
    private bool _hasLosses;

    // Host copies of the current batch: its targets, the per-token losses, the rows ScoreTargets scores.
    private int[] _targets = [];
    private float[] _losses = [];
    private int[] _rowIndices = [];
    private int[] _scoredTargets = [];

    public GptNetwork(GptConfig config, IGptKernels kernels)
    {
        config.Validate();
        Config = config;
        Layout = new ParameterLayout(config);
        kernels.CheckModelSize(Layout.UnpaddedTotal);
        _k = kernels;
        _parameters = kernels.Allocate(Layout.Total);
    }

    public GptConfig Config { get; }

    /// <summary>A model with a copy of these weights running on other kernels: a data-parallel replica.
    /// Its gradients, activations and precision are its own.</summary>
    public GptNetwork Replicate(IGptKernels kernels)
    {
        var replica = new GptNetwork(Config, kernels);
        using var weights = ReadParameters();
        kernels.CopyToDevice(replica._parameters.Pointer, weights.Pointer, Layout.Total * sizeof(float));
        return replica;
    }

    /// <summary>Makes this model's weights a copy of <paramref name="other"/>'s (a replica's, after training).</summary>
    public void CopyParametersFrom(GptNetwork other)
    {
        using var source = other.ReadParameters();
        using var target = EditParameters(keepCurrent: false);
        System.Runtime.InteropServices.NativeMemory.Copy(source.Pointer, target.Pointer, (nuint)Layout.Total * sizeof(float));
    }

    public ParameterLayout Layout { get; }

    public IGptKernels Kernels => _k;

    /// <summary>
    /// The fp32 (master) weights, in the backend's memory. Handing them out counts as a write: whoever
    /// takes them (optimizer, loader, test) may change them, so the bf16 copy is rounded from them
    /// again before the next forward, and no writer can leave it stale. Take them again after a
    /// forward before writing.
    /// </summary>
    public DeviceBuffer Parameters
    {
        get
        {
            _bf16WeightsStale = true;
            return _parameters;
        }
    }

    /// <summary>The master weights for the host to read (saving, checksums): the weights themselves
    /// where the backend's memory is the host's, else a copy.</summary>
    public HostView ReadParameters() => _k.OpenHostView(_parameters.Pointer, Layout.Total, read: true, writeBack: false);

    /// <summary>The master weights for the host to write (loading, initialising), copied back to the
    /// backend when the view is disposed. Without keepCurrent a device's view starts zeroed rather
    /// than as a copy of the weights (for a writer that fills every element).</summary>
    public HostView EditParameters(bool keepCurrent = true)
    {
        _bf16WeightsStale = true;
        return _k.OpenHostView(_parameters.Pointer, Layout.Total, read: keepCurrent, writeBack: true);
    }

    /// <summary>fp32 runs everything in fp32; bf16 is mixed precision (see <see cref="SharpGpt.Precision"/>).
    /// Changing it drops the activations, which are laid out for one precision.</summary>
    public Precision Precision
    {
        get => _precision;
        set
        {
            if (value == _precision)
            {
                return;
            }

            _precision = value;
            _acts?.Dispose();
            _acts = null;
            _bf16Weights?.Dispose();
            // The bf16 copy is half the size: as many ushorts as there are parameters.
            _bf16Weights = value == Precision.Bf16 ? _k.Allocate((Layout.Total + 1) / 2) : null;
            _bf16WeightsStale = true;
        }
    }

    /// <summary>The bf16 copy of the parameters as the last forward used it; null in fp32.</summary>
    internal ushort* Bf16Weights => _bf16Weights is { } w ? (ushort*)w.Pointer : null;

    /// <summary>The gradient buffer in the backend's memory, allocated on first use; same layout as the parameters.</summary>
    public DeviceBuffer Gradients => _gradients ??= _k.Allocate(Layout.Total);

    public ParameterTensors Params => new(Parameters.Pointer, Layout);

    // The master weights for the model's own reads, which leave the bf16 copy valid.
    private ParameterTensors Master => new(_parameters.Pointer, Layout);

    public ParameterTensors Grads => new(Gradients.Pointer, Layout);

    /// <summary>The gradients for the host to read (verification, tests).</summary>
    public HostView ReadGradients() => _k.OpenHostView(Gradients.Pointer, Layout.Total, read: true, writeBack: false);

    /// <summary>Sum of the per-token losses of the last forward (masked targets excluded).</summary>
    public double LossSum { get; private set; }

    /// <summary>Number of unmasked targets in the last forward.</summary>
    public int TargetCount { get; private set; }

    /// <summary>The per-token losses (B*T, row-major) of the last forward with targets; 0 where the target
    /// was masked (-1). Valid until the next forward.</summary>
    public ReadOnlySpan<float> TokenLosses => _hasLosses && _acts is { } a
        ? _losses.AsSpan(0, a.B * a.T)
        : throw new InvalidOperationException("No forward with targets has run.");

    /// <summary>Bytes of activations allocated for the current batch shape.</summary>
    public long ActivationBytes => _acts?.Bytes ?? 0;

    /// <summary>The logits (B, T, Vp) of the last <see cref="Forward"/>, in the backend's memory; valid until the next backward.</summary>
    public float* Logits => _acts is { } a && _hasLogits ? a.FullLogits : throw new InvalidOperationException("No Forward has left logits.");

    /// <summary>The logits of the last <see cref="Forward"/> (B*T rows of Vp) or <see cref="ScoreTargets"/>
    /// (its scored rows), for the host to read.</summary>
    public HostView ReadLogits()
    {
        var a = _acts is { } acts && _hasLogits ? acts : throw new InvalidOperationException("No Forward has left logits.");
        return _k.OpenHostView(a.FullLogits, (long)a.B * a.T * Config.PaddedVocabSize, read: true, writeBack: false);
    }

    /// <summary>GPT-2 initialisation: N(0, 0.02) for matrices and embeddings, residual projections
    /// scaled by 1/sqrt(2 * n_layer), zero biases, unit LayerNorm gains; padded vocab rows stay zero.</summary>
    public void InitializeWeights(ulong seed)
    {
        using var weights = EditParameters(keepCurrent: false);
        System.Runtime.InteropServices.NativeMemory.Clear(weights.Pointer, (nuint)Layout.Total * sizeof(float));
        var p = new ParameterTensors(weights.Pointer, Layout);
        int c = Config.Channels, l = Config.NumLayers;
        float std = 0.02f, residualStd = 0.02f / MathF.Sqrt(2 * l);
        ulong stream = 0;
        void Normal(float* data, long n, float s) => new Rng(seed * 1_000_003 + stream++).FillNormal(data, n, 0, s);

        Normal(p.Wte, (long)Config.VocabSize * c, std);
        Normal(p.Wpe, (long)Config.MaxSeqLen * c, std);
        Normal(p.QkvW, (long)l * 3 * c * c, std);
        Normal(p.AttProjW, (long)l * c * c, residualStd);
        Normal(p.FcW, (long)l * 4 * c * c, std);
        Normal(p.FcProjW, (long)l * 4 * c * c, residualStd);
        new Span<float>(p.Ln1W, l * c).Fill(1f);
        new Span<float>(p.Ln2W, l * c).Fill(1f);
        new Span<float>(p.LnFW, c).Fill(1f);
    }

    public void ZeroGradients() => _k.Clear(Gradients.Pointer, Layout.Total * sizeof(float));

    /// <summary>Allocates the activations for a (B, T) batch, once; a different shape reallocates.</summary>
    public void EnsureBatch(int b, int t)
    {
        if (t > Config.MaxSeqLen)
        {
            throw new ArgumentException($"Sequence length {t} exceeds the model's block size {Config.MaxSeqLen}.");
        }

        if (_acts is { } a && a.B == b && a.T == t)
        {
            return;
        }

        _acts?.Dispose();
        _acts = new Activations(Config, _k, b, t, _precision);
        _targets = new int[b * t];
        _losses = new float[b * t];
        _rowIndices = new int[b * t];
        _scoredTargets = new int[b * t];
    }

    /// <summary>Runs the model on (B, T) token ids and keeps the whole (B, T, Vp) logits in
    /// <see cref="Logits"/>; with targets (-1 = masked) it also returns the mean loss over the
    /// unmasked targets (NaN without targets). <see cref="Backward"/> may follow.</summary>
    public float Forward(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int b, int t)
    {
        Trunk(inputs, targets, b, t);
        var a = _acts!;
        int n = b * t;
        _k.MatmulForward(a.FullLogits, a.LnF, MatmulWeight(Master.Wte), null, n, Config.Channels, Config.PaddedVocabSize);   // (N,Vp)
        _hasLogits = true;
        if (!_hasTargets)
        {
            return float.NaN;
        }

        _k.CrossEntropyForward(a.Losses, a.Lse, a.FullLogits, a.Targets, n, Config.VocabSize, Config.PaddedVocabSize);
        return SumLosses(n);
    }

    /// <summary>A forward for evaluation: the same losses as <see cref="Forward"/> with targets, but the
    /// output layer runs only on the positions whose target is not masked (the lm_head is about a third
    /// of GPT-2 124M's FLOPs, so scoring a few tokens per row costs much less). Afterwards
    /// <see cref="TokenLosses"/> is valid, <see cref="Logits"/> holds the scored positions' rows only (in
    /// order), and <see cref="Backward"/> is not allowed.</summary>
    public float ScoreTargets(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int b, int t)
    {
        RequireTargets(targets);
        Trunk(inputs, targets, b, t);
        _hasTargets = false; // the logits of the masked positions were never computed: no backward
        var a = _acts!;
        int n = b * t, c = Config.Channels, v = Config.VocabSize, vp = Config.PaddedVocabSize;

        // Gather the scored rows of the final LayerNorm (fp32 or bf16) into DLn (backward scratch, unused
        // here) and their targets to the front of Targets.
        TypedPointer scored = a.LnF.IsBf16 ? (ushort*)a.DLn : a.DLn;
        int m = 0;
        for (int i = 0; i < n; i++)
        {
            if (_targets[i] >= 0)
            {
                _rowIndices[m] = i;
                _scoredTargets[m++] = _targets[i];
            }
        }

        if (m > 0)
        {
            _k.Upload(a.RowIndices, _rowIndices.AsSpan(0, m));
            _k.Upload(a.Targets, _scoredTargets.AsSpan(0, m));
            _k.GatherRows(scored, a.LnF, a.RowIndices, m, c);
            _k.MatmulForward(a.FullLogits, scored, MatmulWeight(Master.Wte), null, m, c, vp);               // (M,Vp)
            _k.CrossEntropyForward(a.Losses, a.Lse, a.FullLogits, a.Targets, m, v, vp);
            _k.Download(_losses.AsSpan(0, m), a.Losses);
            _hasLogits = true;
        }

        // Scatter the losses back to their positions, from the end so nothing is overwritten before it is read.
        for (int i = n - 1, j = m - 1; i >= 0; i--)
        {
            _losses[i] = _targets[i] >= 0 ? _losses[j--] : 0f;
        }

        return SumHostLosses(n);
    }

    /// <summary>The mean loss over the unmasked targets, with the classifier run in chunks so the
    /// whole logits never exist (validation).</summary>
    public float ForwardLoss(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int b, int t)
    {
        RequireTargets(targets);
        Trunk(inputs, targets, b, t);
        Classifier(train: false, 0f);
        return SumLosses(b * t);
    }

    /// <summary>One training micro-step: forward, then the gradient of (dlossPerToken x the summed
    /// token losses) added into <see cref="Gradients"/>. The classifier (lm_head, softmax,
    /// cross-entropy and their backward) runs fused, chunk by chunk.</summary>
    public float ForwardBackward(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int b, int t, float dlossPerToken)
    {
        RequireTargets(targets);
        Trunk(inputs, targets, b, t);
        Classifier(train: true, dlossPerToken);
        float loss = SumLosses(b * t);
        TrunkBackward();
        _hasTargets = false;
        return loss;
    }

    /// <summary>Adds the gradient of (dlossPerToken x the summed token losses) into <see cref="Gradients"/>,
    /// after a <see cref="Forward"/> with targets. For a plain mean pass 1 / TargetCount.</summary>
    public void Backward(float dlossPerToken)
    {
        if (_acts is not { } a || !_hasTargets || !_hasLogits)
        {
            throw new InvalidOperationException("Backward needs a Forward with targets first.");
        }

        _hasTargets = false;
        _hasLogits = false; // the logits are scratch for their gradient from here
        int n = a.B * a.T, c = Config.Channels, vp = Config.PaddedVocabSize;
        _k.ClassifierBackward(a.DLn, Grads.Wte, a.FullLogits, a.Lse, a.Targets, dlossPerToken, a.LnF, MatmulWeight(Master.Wte), n, c, Config.VocabSize, vp); // dlnf (N,C)
        TrunkBackward();
    }

    // Everything up to the final LayerNorm: (B,T) ids -> LnF (N,C).
    private void Trunk(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int b, int t)
    {
        EnsureBatch(b, t);
        var a = _acts!;
        UploadTokens(inputs, a.Inputs, b * t, "input", allowMasked: false);
        _hasTargets = !targets.IsEmpty;
        _hasLogits = false;
        _hasLosses = false;
        LossSum = 0;
        TargetCount = 0;
        if (_hasTargets)
        {
            UploadTokens(targets, a.Targets, b * t, "target", allowMasked: true);
            targets.CopyTo(_targets);
        }

        var p = Master;
        int c = Config.Channels, nh = Config.NumHeads, n = b * t;
        long nc = (long)n * c;
        SyncBf16Weights();

        _k.EncoderForward(a.Encoded, a.Inputs, p.Wte, p.Wpe, b, t, c);                         // (N,C)
        _k.LayerNormForward(a.Ln1, a.Ln1Mean, a.Ln1Rstd, a.Encoded, p.Ln1W, p.Ln1B, n, c);
        for (int l = 0; l < Config.NumLayers; l++)
        {
            float* residual = l == 0 ? a.Encoded : a.Residual3 + ((l - 1) * nc);
            TypedPointer ln1 = a.Ln1 + (l * nc), atty = a.Atty + (l * nc), ln2 = a.Ln2 + (l * nc), fchGelu = a.FchGelu + (l * nc * 4);
            float* qkv = a.Qkv + (l * nc * 3), res2 = a.Residual2 + (l * nc), res3 = a.Residual3 + (l * nc);
            float* fchGeluState = a.FchGeluState + (l * nc * 4);
            float* attState = a.AttState + (l * a.AttStateSize);
            float* attOut = atty.IsBf16 ? a.AttentionOutput : atty.Fp32;
            // ln1 of this block was made by the previous block's residual add (or above, for the first)
            _k.MatmulForward(qkv, ln1, MatmulWeight(p.QkvW + (l * 3L * c * c)), p.QkvB + (l * 3 * c), n, c, 3 * c);      // (N,3C)
            _k.AttentionForward(attOut, attState, qkv, b, t, c, nh, _precision);                                                     // (N,C)
            if (atty.IsBf16)
            {
                _k.Convert(atty, attOut, nc);
            }

            _k.MatmulForward(a.Projection, atty, MatmulWeight(p.AttProjW + ((long)l * c * c)), p.AttProjB + (l * c), n, c, c);
            _k.LayerNormResidualForward(res2, ln2, a.Ln2Mean + (l * n), a.Ln2Rstd + (l * n), residual, a.Projection, p.Ln2W + (l * c), p.Ln2B + (l * c), n, c);
            _k.MatmulGeluForward(fchGeluState, fchGelu, ln2, MatmulWeight(p.FcW + (l * 4L * c * c)), p.FcB + (l * 4 * c), n, c, 4 * c);   // (N,4C) x2
            _k.MatmulForward(a.Projection, fchGelu, MatmulWeight(p.FcProjW + (l * 4L * c * c)), p.FcProjB + (l * c), n, 4 * c, c);
            if (l + 1 < Config.NumLayers)
            {
                int next = l + 1;
                _k.LayerNormResidualForward(res3, a.Ln1 + (next * nc), a.Ln1Mean + (next * n), a.Ln1Rstd + (next * n), res2, a.Projection, p.Ln1W + (next * c), p.Ln1B + (next * c), n, c);
            }
            else
            {
                _k.LayerNormResidualForward(res3, a.LnF, a.LnFMean, a.LnFRstd, res2, a.Projection, p.LnFW, p.LnFB, n, c);
            }
        }
    }

    // lm_head + softmax + cross-entropy over chunks of rows; when training, also their backward:
    // dlnf (N,C) for the chunk's rows and the lm_head's share of dwte. Only the first Vs rows of wte
    // take part, the vocabulary rounded up to whole vectors: the padded logits would never be counted
    // and their gradient is zero, so computing them only costs time (65 of 128 for the char model).
    private void Classifier(bool train, float dlossPerToken)
    {
        var a = _acts!;
        int n = a.B * a.T, c = Config.Channels, v = Config.VocabSize, vs = Math.Min(Config.PaddedVocabSize, (v + 15) & ~15);
        for (int r0 = 0; r0 < n; r0 += a.ClassifierRows)
        {
            int rows = Math.Min(a.ClassifierRows, n - r0);
            TypedPointer lnf = a.LnF + ((long)r0 * c), wte = MatmulWeight(Master.Wte);
            _k.MatmulForward(a.ClassifierChunk, lnf, wte, null, rows, c, vs);                               // (R,Vs)
            _k.CrossEntropyForward(a.Losses + r0, a.Lse + r0, a.ClassifierChunk, a.Targets + r0, rows, v, vs);
            if (train)
            {
                _k.ClassifierBackward(a.DLn + ((long)r0 * c), Grads.Wte, a.ClassifierChunk, a.Lse + r0, a.Targets + r0, dlossPerToken, lnf, wte, rows, c, v, vs);
            }
        }
    }

    // The losses of the whole batch, brought to the host and summed there.
    private float SumLosses(int n)
    {
        _k.Download(_losses.AsSpan(0, n), _acts!.Losses);
        return SumHostLosses(n);
    }

    private float SumHostLosses(int n)
    {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            if (_targets[i] >= 0)
            {
                sum += _losses[i];
                count++;
            }
        }

        LossSum = sum;
        TargetCount = count;
        _hasLosses = true;
        return count == 0 ? 0f : (float)(sum / count);
    }

    // From dlnf (in DLn) back to the embeddings.
    private void TrunkBackward()
    {
        var a = _acts!;
        var p = Master;
        var g = Grads;
        int b = a.B, t = a.T, c = Config.Channels, nh = Config.NumHeads, n = b * t;
        long nc = (long)n * c;

        _k.Clear(a.DResidual, nc * sizeof(float));
        float* last = a.Residual3 + ((Config.NumLayers - 1) * nc);
        _k.LayerNormBackward(a.DResidual, g.LnFW, g.LnFB, a.DLn, last, p.LnFW, a.LnFMean, a.LnFRstd, n, c);

        // DResidual carries the gradient of the residual stream; a residual add passes it through
        // unchanged to both branches, so the projections read it directly.
        for (int l = Config.NumLayers - 1; l >= 0; l--)
        {
            float* residual = l == 0 ? a.Encoded : a.Residual3 + ((l - 1) * nc);
            TypedPointer ln1 = a.Ln1 + (l * nc), atty = a.Atty + (l * nc), ln2 = a.Ln2 + (l * nc), fchGelu = a.FchGelu + (l * nc * 4);
            float* qkv = a.Qkv + (l * nc * 3), res2 = a.Residual2 + (l * nc);
            float* fchGeluState = a.FchGeluState + (l * nc * 4);
            float* attState = a.AttState + (l * a.AttStateSize);
            float* attOut = atty.IsBf16 ? a.AttentionOutput : atty.Fp32;

            _k.MatmulGeluBackward(a.DFch, g.FcProjW + (l * 4L * c * c), g.FcProjB + (l * c), a.DResidual, fchGelu, fchGeluState, MatmulWeight(p.FcProjW + (l * 4L * c * c)), n, 4 * c, c);
            _k.MatmulBackward(a.DLn, g.FcW + (l * 4L * c * c), g.FcB + (l * 4 * c), a.DFch, ln2, MatmulWeight(p.FcW + (l * 4L * c * c)), n, c, 4 * c);
            _k.LayerNormBackward(a.DResidual, g.Ln2W + (l * c), g.Ln2B + (l * c), a.DLn, res2, p.Ln2W + (l * c), a.Ln2Mean + (l * n), a.Ln2Rstd + (l * n), n, c);
            _k.MatmulBackward(a.DAtty, g.AttProjW + ((long)l * c * c), g.AttProjB + (l * c), a.DResidual, atty, MatmulWeight(p.AttProjW + ((long)l * c * c)), n, c, c);
            if (atty.IsBf16)
            {
                _k.Convert(attOut, atty, nc); // the attention backward reads its output (as the bf16 the forward kept)
            }

            _k.AttentionBackward(a.DQkv, a.AttScratch, a.DAtty, qkv, attOut, attState, b, t, c, nh, _precision);
            _k.MatmulBackward(a.DLn, g.QkvW + (l * 3L * c * c), g.QkvB + (l * 3 * c), a.DQkv, ln1, MatmulWeight(p.QkvW + (l * 3L * c * c)), n, c, 3 * c);
            _k.LayerNormBackward(a.DResidual, g.Ln1W + (l * c), g.Ln1B + (l * c), a.DLn, residual, p.Ln1W + (l * c), a.Ln1Mean + (l * n), a.Ln1Rstd + (l * n), n, c);
        }

        _k.EncoderBackward(g.Wte, g.Wpe, a.DResidual, a.Inputs, b, t, c);
    }

    /// <summary>What the matmuls read for the weight at <paramref name="master"/>: itself in fp32, the bf16
    /// copy at the same offset in bf16.</summary>
    private TypedPointer MatmulWeight(float* master) =>
        _bf16Weights is { } w ? (TypedPointer)((ushort*)w.Pointer + (master - _parameters.Pointer)) : master;

    /// <summary>Rounds the bf16 copy from the master weights (to nearest even) if they were handed out since.</summary>
    private void SyncBf16Weights()
    {
        if (_bf16Weights is { } w && _bf16WeightsStale)
        {
            _k.Convert((ushort*)w.Pointer, _parameters.Pointer, Layout.Total);
            _bf16WeightsStale = false;
        }
    }

    private static void RequireTargets(ReadOnlySpan<int> targets)
    {
        if (targets.IsEmpty)
        {
            throw new ArgumentException("This pass computes a loss and needs targets.", nameof(targets));
        }
    }

    // Checks the ids and uploads them to the backend.
    private void UploadTokens(ReadOnlySpan<int> source, int* device, int count, string what, bool allowMasked)
    {
        if (source.Length != count)
        {
            throw new ArgumentException($"Expected {count} {what} ids for the batch, got {source.Length}.");
        }

        int vocab = Config.VocabSize;
        for (int i = 0; i < count; i++)
        {
            int id = source[i];
            if (id >= vocab || (id < 0 && !(allowMasked && id == -1)))
            {
                throw new ArgumentOutOfRangeException(what, $"{what} id {id} at position {i} is outside the model's vocabulary [0, {vocab}).");
            }
        }

        _k.Upload(device, source);
    }

    public void Dispose()
    {
        _acts?.Dispose();
        _gradients?.Dispose();
        _bf16Weights?.Dispose();
        _parameters.Dispose();
    }
}
