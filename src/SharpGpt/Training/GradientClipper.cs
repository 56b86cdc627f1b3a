using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>Global gradient-norm clipping: computes the norm once and returns the factor AdamW scales the gradients by.</summary>
internal sealed unsafe class GradientClipper(GptNetwork model)
{
    /// <summary>The L2 norm of the model's whole gradient, computed by its backend.</summary>
    public double Norm() => Math.Sqrt(model.Kernels.SquareSum(model.Gradients.Pointer, model.Layout.Total));

    /// <summary>The factor that brings a gradient of this norm down to maxNorm (1 if already within, or clipping is off).</summary>
    public static float ScaleFor(double norm, float maxNorm) => maxNorm > 0 && norm > maxNorm ? (float)(maxNorm / norm) : 1f;
}
