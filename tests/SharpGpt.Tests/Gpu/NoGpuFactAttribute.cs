namespace SharpGpt.Tests.Gpu;

/// <summary>A test of what happens without an NVIDIA GPU: skipped on a machine that has one.</summary>
public sealed class NoGpuFactAttribute : FactAttribute
{
    public NoGpuFactAttribute()
    {
        if (File.Exists("/proc/driver/nvidia/version"))
        {
            Skip = "this machine has an NVIDIA driver; the test is of one without";
        }
    }
}
