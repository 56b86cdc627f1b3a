using SharpGpt.Eval;
using SharpGpt.Formats;
using SharpGpt.Gpu;
using SharpGpt.Tests.Eval;

namespace SharpGpt.Tests.Gpu;

/// <summary>The whole model on the emulated GPU against PyTorch, with the CPU's fixtures and tolerances.</summary>
[Collection(EmulatedGpuCollection.Name)]
public sealed class GpuReferenceTests(EmulatedGpu gpu)
{
    [Theory]
    [MemberData(nameof(ReferenceFixtureTests.Fixtures), MemberType = typeof(ReferenceFixtureTests))]
    public void ForwardAndBackwardMatchPyTorch(string name) => MatchesPyTorch(name, gpu.Kernels);

    /// <summary>The same through the bias and GELU kernels, where a GPU has no cuBLASLt epilogues.</summary>
    [Theory]
    [MemberData(nameof(ReferenceFixtureTests.Fixtures), MemberType = typeof(ReferenceFixtureTests))]
    public void ForwardAndBackwardMatchPyTorchWithoutEpilogues(string name) => MatchesPyTorch(name, gpu.WithoutEpilogues);

    private static void MatchesPyTorch(string name, GpuKernels kernels)
    {
        using var model = LlmcCheckpoint.Load(ReferenceFixtureTests.FixturePath($"{name}_model.bin"), kernels);
        var state = LlmcDebugState.Read(ReferenceFixtureTests.FixturePath($"{name}_state.bin"), model.Config);
        var report = ReferenceVerifier.Verify(model, state);
        Assert.True(report.Ok, $"loss {report.Loss} vs {report.ExpectedLoss}; logits {report.Logits.MaxAbsDifference}; "
            + string.Join(", ", report.Gradients.Where(g => !g.Ok).Select(g => $"{g.Name} {g.MaxAbsDifference}")));
        Assert.InRange(report.Logits.MaxAbsDifference, 0, 1e-4);
        Assert.InRange(report.Gradients.Max(g => g.MaxAbsDifference), 0, 1e-4);
    }

    [Theory]
    [InlineData("odd")]
    [InlineData("masked")]
    public void TenAdamWStepsFollowPyTorchsLossTrajectory(string name) => ReferenceFixtureTests.FollowsPyTorchsLossTrajectory(name, gpu.Kernels);
}
