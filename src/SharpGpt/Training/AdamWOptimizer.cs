using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>AdamW with fp32 moments in buffers laid out like the parameters, in the model's backend memory.</summary>
internal sealed unsafe class AdamWOptimizer : IDisposable
{
    private readonly GptNetwork _model;

    public AdamWOptimizer(GptNetwork model, AdamWSettings settings)
    {
        _model = model;
        Settings = settings;
        M = model.Kernels.Allocate(model.Layout.Total);
        V = model.Kernels.Allocate(model.Layout.Total);
    }

    public AdamWSettings Settings { get; }

    /// <summary>First moments.</summary>
    public DeviceBuffer M { get; }

    /// <summary>Second moments.</summary>
    public DeviceBuffer V { get; }

    /// <summary>Number of updates done so far (the bias corrections use Step + 1 for the next one).</summary>
    public int Step { get; set; }

    /// <summary>One update from the model's gradients, each first multiplied by gradScale (clipping).
    /// With zeroGradients the gradients are cleared in the same pass, ready for the next step.</summary>
    public void Update(float learningRate, float gradScale = 1f, bool zeroGradients = false)
    {
        Step++;
        var layout = _model.Layout;
        var k = _model.Kernels;
        float* p = _model.Parameters.Pointer, g = _model.Gradients.Pointer, m = M.Pointer, v = V.Pointer;
        var s = Settings;
        if (s.DecayAll)
        {
            k.AdamWUpdate(p, g, m, v, layout.Total, learningRate, s.Beta1, s.Beta2, s.Epsilon, s.WeightDecay, Step, gradScale, zeroGradients);
            return;
        }

        for (int i = 0; i < ParameterLayout.TensorCount; i++)
        {
            long o = layout.Offsets[i];
            float wd = ParameterLayout.IsDecayed(i) ? s.WeightDecay : 0f;
            k.AdamWUpdate(p + o, g + o, m + o, v + o, layout.Sizes[i], learningRate, s.Beta1, s.Beta2, s.Epsilon, wd, Step, gradScale, zeroGradients);
        }
    }

    public void Dispose()
    {
        M.Dispose();
        V.Dispose();
    }
}
