using SharpGpt.Kernels;

namespace SharpGpt.Gpu.Check;

/// <summary>
/// The same tensors on the CPU backend and on a GPU backend, for running one kernel on both and
/// comparing (the tests, and gpu-check's smoke test on a real GPU): each tensor is made from one
/// host array, and read back as a host array.
/// </summary>
internal sealed unsafe class KernelTwin(IGptKernels cpu, IGptKernels gpu) : IDisposable
{
    private readonly List<DeviceBuffer> _owned = [];

    public IGptKernels Cpu => cpu;

    public IGptKernels Gpu => gpu;

    public FloatPair Floats(float[] data) => new(Upload(cpu, data), Upload(gpu, data));

    public IntPair Ints(int[] data) => new(Upload(cpu, data), Upload(gpu, data));

    /// <summary>bf16 tensors made by rounding the same fp32 data on each backend.</summary>
    public Bf16Pair Bf16(float[] data)
    {
        var fp32 = Floats(data);
        var bf16 = Bf16Zeros(data.Length);
        cpu.Convert(bf16.Cpu, fp32.Cpu, data.Length);
        gpu.Convert(bf16.Gpu, fp32.Gpu, data.Length);
        return bf16;
    }

    public FloatPair Zeros(long n) => new(Own(cpu.Allocate(n)), Own(gpu.Allocate(n)));

    public Bf16Pair Bf16Zeros(long n) => new((ushort*)Own(cpu.Allocate((n + 1) / 2)), (ushort*)Own(gpu.Allocate((n + 1) / 2)));

    /// <summary>Reads both backends' copies of a tensor.</summary>
    public (float[] Cpu, float[] Gpu) Read(FloatPair tensor, long n) => (cpu.ToArray(tensor.Cpu, n), gpu.ToArray(tensor.Gpu, n));

    public (float[] Cpu, float[] Gpu) Read(Bf16Pair tensor, long n) => (Widen(cpu.ToArray(tensor.Cpu, n)), Widen(gpu.ToArray(tensor.Gpu, n)));

    /// <summary>How far the GPU's copy is from the CPU's, against a bound of atol + rtol |cpu| per element
    /// (rtol = atol = 0: bit for bit).</summary>
    public TwinDifference Compare(string what, FloatPair tensor, long n, double rtol, double atol)
    {
        var (c, g) = Read(tensor, n);
        return TwinDifference.Of(what, c, g, rtol, atol);
    }

    public TwinDifference Compare(string what, Bf16Pair tensor, long n, double rtol, double atol)
    {
        var (c, g) = Read(tensor, n);
        return TwinDifference.Of(what, c, g, rtol, atol);
    }

    public void Dispose()
    {
        foreach (var buffer in _owned)
        {
            buffer.Dispose();
        }
    }

    private float* Own(DeviceBuffer buffer)
    {
        _owned.Add(buffer);
        return buffer.Pointer;
    }

    // fp32 and int32 tensors alike: a float of the backend's memory per element.
    private T* Upload<T>(IGptKernels k, T[] data)
        where T : unmanaged
    {
        var buffer = (T*)Own(k.Allocate(data.Length));
        k.Upload(buffer, data.AsSpan());
        return buffer;
    }

    private static float[] Widen(ushort[] bits) => [.. bits.Select(BFloat16.ToFloat)];
}

/// <summary>One fp32 tensor on both backends.</summary>
internal readonly unsafe struct FloatPair(float* cpu, float* gpu)
{
    public float* Cpu { get; } = cpu;

    public float* Gpu { get; } = gpu;
}

/// <summary>One int tensor on both backends.</summary>
internal readonly unsafe struct IntPair(int* cpu, int* gpu)
{
    public int* Cpu { get; } = cpu;

    public int* Gpu { get; } = gpu;
}

/// <summary>One bf16 tensor on both backends.</summary>
internal readonly unsafe struct Bf16Pair(ushort* cpu, ushort* gpu)
{
    public ushort* Cpu { get; } = cpu;

    public ushort* Gpu { get; } = gpu;
}
