using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Tests.Kernels;

namespace SharpGpt.Tests.Model;

/// <summary>Small seeded models and batches for model-level tests.</summary>
internal static class TestModels
{
    public static GptConfig Tiny => new(MaxSeqLen: 16, VocabSize: 97, NumLayers: 2, NumHeads: 2, Channels: 32);

    public static GptNetwork Create(GptConfig config, ParallelRunner runner, ulong seed = 7, IGptKernels? kernels = null)
    {
        var model = new GptNetwork(config, kernels ?? new CpuKernels(runner));
        model.InitializeWeights(seed);
        return model;
    }

    public static (int[] Inputs, int[] Targets) Batch(GptConfig config, int b, int t, ulong seed = 3, double maskFraction = 0)
    {
        var rng = new Rng(seed);
        var inputs = new int[b * t];
        var targets = new int[b * t];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = rng.NextInt(config.VocabSize);
            targets[i] = rng.NextDouble() < maskFraction ? -1 : rng.NextInt(config.VocabSize);
        }

        return (inputs, targets);
    }

    public static float[] Copy(DeviceBuffer buffer) => buffer.Span.ToArray();
}
