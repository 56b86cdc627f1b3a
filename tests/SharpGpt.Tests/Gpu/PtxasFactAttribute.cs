namespace SharpGpt.Tests.Gpu;

/// <summary>A test that runs NVIDIA's ptxas: skipped, with the reason, where it is not installed.</summary>
public sealed class PtxasFactAttribute : FactAttribute
{
    public PtxasFactAttribute()
    {
        if (Ptxas is null)
        {
            Skip = "ptxas not found: set SHARPGPT_PTXAS or put it on PATH (.ci/run extracts it from Debian's nvidia-cuda-toolkit package) to assemble the kernels' PTX for sm_90.";
        }
    }

    /// <summary>SHARPGPT_PTXAS, else ptxas on PATH, else null.</summary>
    public static string? Ptxas { get; } = Find();

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("SHARPGPT_PTXAS") is { Length: > 0 } configured && File.Exists(configured))
        {
            return configured;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "ptxas")).FirstOrDefault(File.Exists);
    }
}
