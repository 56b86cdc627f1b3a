using System.Text.Json;
using SharpGpt.Tests.Cli;

namespace SharpGpt.Tests.Gpu;

/// <summary>gpu-check without a GPU: it says so and exits 2; on the emulated device its smoke and training checks pass.</summary>
[Collection(EmulatedGpuCollection.Name)]
public sealed class GpuCheckCommandTests
{
    [NoGpuFact]
    public void WithoutACudaDeviceItSaysSoAndExitsTwo()
    {
        var (code, _, error) = CliRunner.Run("gpu-check");
        Assert.Equal(2, code);
        Assert.StartsWith("sharpgpt gpu-check: no CUDA device: no NVIDIA driver", error);
    }

    [Fact]
    public void OnTheEmulatedDeviceEveryCheckPasses()
    {
        var (code, output, error) = CliRunner.Run("gpu-check", "--device", "cuda-emulated", "--training-steps", "3", "--threads", "2");
        Assert.True(code == 0, $"gpu-check exited {code}: {output}{error}");
        using var report = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var root = report.RootElement;
        Assert.True(root.GetProperty("passed").GetBoolean());
        var smoke = root.GetProperty("smoke").EnumerateArray().ToList();
        Assert.True(smoke.Count >= 50, $"{smoke.Count} smoke checks");
        Assert.All(smoke, c => Assert.True(c.GetProperty("passed").GetBoolean(), c.GetProperty("check").GetString()));
        Assert.Contains(smoke, c => c.GetProperty("check").GetString() == "matmul lm_head bf16 (69x64 · 64x128) dweight");
        Assert.Equal(3, root.GetProperty("training_bf16").GetProperty("gpu").GetArrayLength());
        Assert.Contains("bench: skipped on the emulated device", output);
        Assert.Equal("epilogues: emulated", root.GetProperty("blas_epilogue").GetString());
    }
}
