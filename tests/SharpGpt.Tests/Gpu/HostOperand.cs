using System.Runtime.InteropServices;
using SharpGpt.Kernels;

namespace SharpGpt.Tests.Gpu;

/// <summary>256-byte-aligned host memory standing in for device memory, for the BLAS bindings' stand-ins.</summary>
internal sealed unsafe class HostOperand : IDisposable
{
    private HostOperand(long bytes) => Pointer = NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 4), 256);

    public void* Pointer { get; }

    public float* Floats => (float*)Pointer;

    public static HostOperand Of(float[] values)
    {
        var host = new HostOperand(values.Length * sizeof(float));
        values.CopyTo(new Span<float>(host.Pointer, values.Length));
        return host;
    }

    /// <summary>The values as fp32, or rounded to bf16 and stored as bf16.</summary>
    public static HostOperand Of(float[] values, bool bf16)
    {
        if (!bf16)
        {
            return Of(values);
        }

        var host = new HostOperand(values.Length * sizeof(ushort));
        for (int i = 0; i < values.Length; i++)
        {
            ((ushort*)host.Pointer)[i] = BFloat16.FromFloat(values[i]);
        }

        return host;
    }

    public float[] ToArray(int n) => new Span<float>(Pointer, n).ToArray();

    public void Dispose() => NativeMemory.AlignedFree(Pointer);
}
