using SharpGpt.Inference;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Tests.Model;
using SharpGpt.Training;

namespace SharpGpt.Tests.Gpu;

/// <summary>The model's inference paths and memory plan on the emulated GPU.</summary>
[Collection(EmulatedGpuCollection.Name)]
public sealed class GpuModelTests(EmulatedGpu gpu) : IDisposable
{
    private static readonly GptConfig Odd = new(MaxSeqLen: 23, VocabSize: 65, NumLayers: 3, NumHeads: 3, Channels: 48);
    private readonly ParallelRunner _runner = new(2);

    public void Dispose() => _runner.Dispose();

    [Fact]
    public void CachedDecodingMatchesTheCpu()
    {
        using var cpuModel = TestModels.Create(Odd, _runner, seed: 5);
        using var gpuModel = TestModels.Create(Odd, _runner, seed: 5, gpu.Kernels);
        using var cpu = new KvCacheDecoder(cpuModel);
        using var device = new KvCacheDecoder(gpuModel);
        int[] tokens = TestModels.Batch(Odd, 1, 12, seed: 9).Inputs;
        DeviceArrays.AssertClose(cpu.Prefill(tokens.AsSpan(0, 5)), device.Prefill(tokens.AsSpan(0, 5)), 1e-5, 1e-5, "logits after the prompt");
        for (int i = 5; i < tokens.Length; i++)
        {
            DeviceArrays.AssertClose(cpu.Append(tokens[i]), device.Append(tokens[i]), 1e-5, 1e-5, $"logits at position {i}");
        }

        Assert.Equal(cpu.Context.ToArray(), device.Context.ToArray());
    }

    /// <summary>Batched decoding runs on the GPU backend's kernels: three sequences, two of them prefilled together,
    /// decoded in one forward per step and sliding past the block, give each the logits of its decode alone.</summary>
    [Fact]
    public void BatchedDecodingMatchesDecodesAloneOnTheDevice()
    {
        using var gpuModel = TestModels.Create(Odd, _runner, seed: 5, gpu.Kernels);
        using var batch = new BatchKvCacheDecoder(gpuModel, 3);
        var alone = new[] { new KvCacheDecoder(gpuModel), new KvCacheDecoder(gpuModel), new KvCacheDecoder(gpuModel) };
        try
        {
            int[][] streams = [.. Enumerable.Range(0, 3).Select(i => TestModels.Batch(Odd, 1, 40, seed: (ulong)(30 + i)).Inputs)];
            int[] prompts = [3, 7, 12];
            batch.Prefill([0, 1, 2], [.. Enumerable.Range(0, 3).Select(i => streams[i][..prompts[i]])]);
            for (int i = 0; i < 3; i++)
            {
                DeviceArrays.AssertClose(alone[i].Prefill(streams[i].AsSpan(0, prompts[i])), batch.Logits(i), 1e-5, 1e-5, $"sequence {i} after its prompt");
            }

            for (int step = 0; step < 16; step++)
            {
                int[] tokens = [.. Enumerable.Range(0, 3).Select(i => streams[i][prompts[i] + step])];
                batch.Append([2, 0, 1], [tokens[2], tokens[0], tokens[1]]);
                foreach (var (row, i) in new[] { (0, 2), (1, 0), (2, 1) })
                {
                    DeviceArrays.AssertClose(alone[i].Append(tokens[i]), batch.Logits(row), 1e-5, 1e-5, $"sequence {i} at step {step}");
                }
            }

            Assert.True(batch.Slides(2) > 0, "the longest sequence should have slid past the block");
        }
        finally
        {
            foreach (var decoder in alone)
            {
                decoder.Dispose();
            }
        }
    }

    [Fact]
    public void ScoringSomeTargetsMatchesTheCpu()
    {
        using var cpuModel = TestModels.Create(Odd, _runner, seed: 6);
        using var gpuModel = TestModels.Create(Odd, _runner, seed: 6, gpu.Kernels);
        var (inputs, targets) = TestModels.Batch(Odd, 4, 13, seed: 4, maskFraction: 0.6);
        float cpuLoss = cpuModel.ScoreTargets(inputs, targets, 4, 13);
        float gpuLoss = gpuModel.ScoreTargets(inputs, targets, 4, 13);
        Assert.Equal(cpuModel.TargetCount, gpuModel.TargetCount);
        Assert.Equal(cpuLoss, gpuLoss, 1e-5f);
        DeviceArrays.AssertClose(cpuModel.TokenLosses, gpuModel.TokenLosses, 1e-5, 1e-5, "token losses");
        Assert.All(Enumerable.Range(0, targets.Length).Where(i => targets[i] < 0), i => Assert.Equal(0f, gpuModel.TokenLosses[i]));
    }

    [Fact]
    public void TheMemoryPlanCountsTheScoresAndTheWorkspace()
    {
        const int b = 2, t = 23;
        long plannedGpu = Activations.BytesFor(Odd, gpu.Kernels, b, t, Precision.Bf16);
        long plannedCpu = Activations.BytesFor(Odd, new CpuKernels(_runner), b, t, Precision.Bf16);
        long scores = (long)Odd.NumLayers * b * Odd.NumHeads * t * t * sizeof(float);
        Assert.True(plannedGpu - plannedCpu >= scores, $"the GPU plan ({plannedGpu} bytes) should hold the CPU's ({plannedCpu}) and {scores} bytes of attention scores");

        // What a training step really allocates stays inside the plan.
        using var kernels = new SharpGpt.Gpu.GpuKernels(gpu.Device, _runner);
        using var model = TestModels.Create(Odd, _runner, seed: 7, kernels);
        model.Precision = Precision.Bf16;
        var (inputs, targets) = TestModels.Batch(Odd, b, t, seed: 2);
        model.ForwardBackward(inputs, targets, b, t, 1f);
        _ = new GradientClipper(model).Norm();
        Assert.True(kernels.WorkspaceBytesAllocated > 0);
        long used = model.ActivationBytes + kernels.WorkspaceBytesAllocated + (3L * b * t * sizeof(int));
        Assert.True(used <= plannedGpu, $"a step used {used} bytes, the plan said {plannedGpu}");
    }
}
