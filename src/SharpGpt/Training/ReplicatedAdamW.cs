using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>
/// Plain data parallelism: every rank all-reduces the whole gradient and holds all of AdamW's
/// moments, so every rank makes the same update.
/// </summary>
internal sealed unsafe class ReplicatedAdamW : IDistributedOptimizer
{
    private readonly GptNetwork _model;
    private readonly AdamWOptimizer _optimizer;
    private readonly GradientClipper _clipper;
    private readonly ICollectives _collectives;
    private readonly bool _owns;

    public ReplicatedAdamW(GptNetwork model, AdamWSettings settings, ICollectives collectives)
        : this(model, new AdamWOptimizer(model, settings), new GradientClipper(model), collectives, owns: true)
    {
    }

    /// <summary>Over an existing optimizer and clipper, which stay the caller's to dispose.</summary>
    public ReplicatedAdamW(GptNetwork model, AdamWOptimizer optimizer, GradientClipper clipper, ICollectives collectives)
        : this(model, optimizer, clipper, collectives, owns: false)
    {
    }

    private ReplicatedAdamW(GptNetwork model, AdamWOptimizer optimizer, GradientClipper clipper, ICollectives collectives, bool owns)
    {
        _model = model;
        _optimizer = optimizer;
        _clipper = clipper;
        _collectives = collectives;
        _owns = owns;
    }

    public AdamWSettings Settings => _optimizer.Settings;

    public int Step
    {
        get => _optimizer.Step;
        set => _optimizer.Step = value;
    }

    public long MomentBytes => 2L * sizeof(float) * _model.Layout.Total;

    public double ReduceGradients()
    {
        // One rank has nothing to add (and a GPU's gradients are not the host's for the collectives to touch).
        if (_collectives.WorldSize > 1)
        {
            _collectives.AllReduceSum(_model.Gradients.Pointer, _model.Layout.Total);
        }

        return _clipper.Norm();
    }

    // AdamW clears the gradients in the same pass over memory.
    public void Update(float learningRate, float gradScale) => _optimizer.Update(learningRate, gradScale, zeroGradients: true);

    public void WriteMoments(Stream? destination)
    {
        if (destination is not null)
        {
            _model.Kernels.WriteFloats(destination, _optimizer.M.Pointer, _model.Layout.Total);
            _model.Kernels.WriteFloats(destination, _optimizer.V.Pointer, _model.Layout.Total);
        }
    }

    public void ReadMoments(Stream source)
    {
        _model.Kernels.ReadFloats(source, _optimizer.M.Pointer, _model.Layout.Total);
        _model.Kernels.ReadFloats(source, _optimizer.V.Pointer, _model.Layout.Total);
    }

    public void Dispose()
    {
        if (_owns)
        {
            _optimizer.Dispose();
        }
    }
}
