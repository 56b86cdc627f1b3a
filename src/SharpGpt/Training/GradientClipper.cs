using System.Runtime.InteropServices;
using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>Global gradient-norm clipping: computes the norm once and returns the factor AdamW scales the gradients by.</summary>
public sealed unsafe class GradientClipper : IDisposable
{
    private readonly GptModel _model;
    private readonly double* _partials;

    public GradientClipper(GptModel model)
    {
        _model = model;
        _partials = (double*)NativeMemory.AllocZeroed((nuint)GradientNorm.PartialCount(model.Layout.Total), sizeof(double));
    }

    public double Norm() => GradientNorm.Compute(_model.Kernels.Runner, _model.Gradients.Pointer, _model.Layout.Total, _partials);

    /// <summary>The factor that brings a gradient of this norm down to maxNorm (1 if already within, or clipping is off).</summary>
    public static float ScaleFor(double norm, float maxNorm) => maxNorm > 0 && norm > maxNorm ? (float)(maxNorm / norm) : 1f;

    public void Dispose() => NativeMemory.Free(_partials);
}
