using System.Text.Json;
using SharpGpt.Eval;
using SharpGpt.Formats;
using SharpGpt.Kernels;
using SharpGpt.Training;

namespace SharpGpt.Tests.Eval;

/// <summary>The model against PyTorch: fixtures written by tools/reference/gpt2_reference.py.</summary>
public sealed class ReferenceFixtureTests
{
    public static TheoryData<string> Fixtures => new() { "tiny", "odd", "wide", "masked", "finetune", "perturbed" };

    internal static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ForwardAndBackwardMatchPyTorch(string name)
    {
        using var runner = new ParallelRunner(2);
        using var model = LlmcCheckpoint.Load(FixturePath($"{name}_model.bin"), new CpuKernels(runner));
        var state = LlmcDebugState.Read(FixturePath($"{name}_state.bin"), model.Config);
        var report = ReferenceVerifier.Verify(model, state);
        Assert.True(report.LossOk, $"loss {report.Loss} vs {report.ExpectedLoss}");
        Assert.True(report.Logits.Ok, $"logits differ by {report.Logits.MaxAbsDifference}");
        foreach (var g in report.Gradients)
        {
            Assert.True(g.Ok, $"{g.Name}: max difference {g.MaxAbsDifference} at {g.Index} (ours {g.Ours}, PyTorch {g.Expected})");
        }

        // Far inside llm.c's tolerances: any real error shows up long before them.
        Assert.InRange(report.Logits.MaxAbsDifference, 0, 1e-4);
        Assert.InRange(report.Gradients.Max(g => g.MaxAbsDifference), 0, 1e-4);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void TenAdamWStepsFollowPyTorchsLossTrajectory(string name)
    {
        using var runner = new ParallelRunner(2);
        FollowsPyTorchsLossTrajectory(name, new CpuKernels(runner));
    }

    /// <summary>Ten AdamW steps on the fixture's batch on these kernels give PyTorch's losses within 1e-4.</summary>
    internal static void FollowsPyTorchsLossTrajectory(string name, IGptKernels kernels)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(FixturePath($"{name}_losses.json")));
        float[] expected = [.. doc.RootElement.GetProperty("losses").EnumerateArray().Select(e => e.GetSingle())];
        Assert.Equal(10, expected.Length);

        using var model = LlmcCheckpoint.Load(FixturePath($"{name}_model.bin"), kernels);
        var state = LlmcDebugState.Read(FixturePath($"{name}_state.bin"), model.Config);
        using var optimizer = new AdamWOptimizer(model, AdamWSettings.LlmcTest);
        for (int step = 0; step < expected.Length; step++)
        {
            model.ZeroGradients();
            float loss = model.Forward(state.Inputs, state.Targets, state.B, state.T);
            Assert.True(Math.Abs(loss - expected[step]) <= 1e-4, $"step {step}: loss {loss}, PyTorch {expected[step]}");
            model.Backward(1f / model.TargetCount);
            optimizer.Update(1e-4f);
        }
    }

    [Fact]
    public void AStateForAnotherModelNamesTheMismatch()
    {
        string tiny = FixturePath("tiny_state.bin");
        var wide = LlmcCheckpoint.ReadConfig(FixturePath("wide_model.bin"));
        var e = Assert.Throws<SharpGptException>(() => LlmcDebugState.Read(tiny, wide));
        Assert.Contains(tiny, e.Message);
        Assert.Contains("vocab_size=200", e.Message);

        var shortBlock = LlmcCheckpoint.ReadConfig(FixturePath("tiny_model.bin")) with { MaxSeqLen = 8 };
        e = Assert.Throws<SharpGptException>(() => LlmcDebugState.Read(tiny, shortBlock));
        Assert.Contains("T = 11 does not fit the model (block size 8)", e.Message);
    }
}
