using SharpGpt.Kernels;

namespace SharpGpt.Tests.Gpu;

/// <summary>
/// The same tensors on the CPU backend and on a GPU backend, for running one kernel on both and
/// comparing: each tensor is made from one host array, and read back as a host array.
/// </summary>
internal sealed unsafe class Twin(IGptKernels cpu, IGptKernels gpu) : IDisposable
{
    private readonly List<DeviceBuffer> _owned = [];

    public IGptKernels Cpu => cpu;

    public IGptKernels Gpu => gpu;

    public FloatPair Floats(float[] data) => new(Own(DeviceArrays.Upload(cpu, data)), Own(DeviceArrays.Upload(gpu, data)));

    public IntPair Ints(int[] data) => new((int*)Own(DeviceArrays.Upload(cpu, data)), (int*)Own(DeviceArrays.Upload(gpu, data)));

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
    public (float[] Cpu, float[] Gpu) Read(FloatPair tensor, long n) =>
        (DeviceArrays.Download(cpu, tensor.Cpu, n), DeviceArrays.Download(gpu, tensor.Gpu, n));

    public (float[] Cpu, float[] Gpu) Read(Bf16Pair tensor, long n) =>
        (Widen(DeviceArrays.DownloadBf16(cpu, tensor.Cpu, n)), Widen(DeviceArrays.DownloadBf16(gpu, tensor.Gpu, n)));

    /// <summary>Asserts the two copies agree to within atol + rtol |cpu|.</summary>
    public void AssertClose(FloatPair tensor, long n, double rtol, double atol, string what)
    {
        var (c, g) = Read(tensor, n);
        DeviceArrays.AssertClose(c, g, rtol, atol, what);
    }

    public void AssertClose(Bf16Pair tensor, long n, double rtol, double atol, string what)
    {
        var (c, g) = Read(tensor, n);
        DeviceArrays.AssertClose(c, g, rtol, atol, what);
    }

    /// <summary>Asserts the two copies are bit for bit the same.</summary>
    public void AssertEqual(FloatPair tensor, long n, string what)
    {
        var (c, g) = Read(tensor, n);
        for (int i = 0; i < n; i++)
        {
            if (BitConverter.SingleToInt32Bits(c[i]) != BitConverter.SingleToInt32Bits(g[i]))
            {
                Assert.Fail($"{what}: element {i} is {g[i]} on the GPU, {c[i]} on the CPU");
            }
        }
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
