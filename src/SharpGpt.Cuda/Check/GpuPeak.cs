namespace SharpGpt.Gpu.Check;

/// <summary>Dense bf16 tensor-core peaks (fp32 accumulation) of the GPUs whose figures are published, by name and SM count, for MFU.</summary>
internal static class GpuPeak
{
    private static readonly (string Name, int Multiprocessors, double Tflops, string Part)[] Known =
    [
        ("H200", 132, 989.4, "H200 SXM"),
        ("H100", 132, 989.4, "H100 SXM5"),
        ("H100", 114, 756.0, "H100 PCIe"),
        ("A100", 108, 312.0, "A100"),
    ];

    /// <summary>The peak in TFLOP/s and the part it is the figure of, or null when the device is not in the table.</summary>
    public static (double Tflops, string Part)? DenseBf16(string deviceName, int multiprocessors) =>
        Known.Where(k => deviceName.Contains(k.Name, StringComparison.OrdinalIgnoreCase) && k.Multiprocessors == multiprocessors)
            .Select(k => ((double Tflops, string Part)?)(k.Tflops, k.Part)).FirstOrDefault();
}
