using SharpGpt.Devices;
using SharpGpt.Gpu;
using SharpGpt.Kernels;
using SharpGpt.Tests.Cli;

namespace SharpGpt.Tests.Gpu;

/// <summary>--device on a machine without an NVIDIA GPU (the CI machines): auto falls back to the CPU and says why.</summary>
public sealed class DeviceChoiceTests
{
    [NoGpuFact]
    public void AutoChoosesTheCpuAndSaysWhyWhereThereIsNoGpu()
    {
        using var runner = new ParallelRunner(1);
        using var backend = ComputeBackend.Create(null, runner);
        Assert.Equal(DeviceKind.Cpu, backend.Kind);
        Assert.StartsWith("device: cpu [auto: no NVIDIA driver: libcuda.so.1", backend.Describe());
        Assert.Throws<GpuUnavailableException>(() => ComputeBackend.Create(DeviceKind.Cuda, runner));
    }

    [NoGpuFact]
    public void CommandsSayTheirDeviceFirst()
    {
        var (code, output, _) = CliRunner.Run("bench", "--layers", "1", "--heads", "1", "--embd", "16", "--vocab", "11", "--block-size", "8",
            "--batch", "1", "--seq", "8", "--steps", "1", "--warmup", "0", "--threads", "1");
        Assert.Equal(0, code);
        Assert.StartsWith("device: cpu [auto: ", output);
    }

    [NoGpuFact]
    public void AskingForCudaWithoutAGpuIsOneLineSayingWhatIsMissing()
    {
        var (code, _, error) = CliRunner.Run("bench", "--device", "cuda", "--layers", "1", "--steps", "1");
        Assert.Equal(1, code);
        Assert.StartsWith("sharpgpt bench: --device: no NVIDIA driver: libcuda.so.1 was not found", error);
        Assert.DoesNotContain("   at ", error);
    }
}
