using System.Numerics;
using System.Runtime.CompilerServices;

namespace SharpGpt.Kernels;

/// <summary>Vectorised transcendental helpers shared by the element-wise kernels.</summary>
internal static class VectorMath
{
    /// <summary>tanh(x) = 1 - 2 / (1 + e^(2x)); saturates cleanly to ±1 when e^(2x) under- or overflows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Tanh(Vector<float> x)
    {
        var e = Vector.Exp(x + x);
        return Vector<float>.One - (Vector.Create(2f) / (Vector<float>.One + e));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HorizontalSum(Vector<float> v) => Vector.Sum(v);
}
