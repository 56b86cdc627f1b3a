using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Gpu.Check;

/// <summary>
/// gpu-check's training check: the same small model, from the same weights on the same batches,
/// trained for some steps on the GPU and on the CPU backend; the losses must agree step by step
/// (relative 1e-3 in fp32, 1e-2 in bf16).
/// </summary>
internal static class GpuTrainingCheck
{
    public static readonly GptConfig Model = new(MaxSeqLen: 32, VocabSize: 97, NumLayers: 2, NumHeads: 2, Channels: 64);

    /// <summary>The loss of every step on each backend, and whether they agree within the precision's bound.</summary>
    public static (float[] Cpu, float[] Gpu, double MaxRelative, bool Passed) Run(IGptKernels gpu, IGptKernels cpu, Precision precision, int steps = 20)
    {
        float[] cpuLosses = Train(cpu, precision, steps), gpuLosses = Train(gpu, precision, steps);
        double max = 0;
        for (int s = 0; s < steps; s++)
        {
            max = Math.Max(max, Math.Abs(gpuLosses[s] - cpuLosses[s]) / Math.Abs(cpuLosses[s]));
        }

        return (cpuLosses, gpuLosses, max, max <= (precision == Precision.Bf16 ? 1e-2 : 1e-3));
    }

    private static float[] Train(IGptKernels kernels, Precision precision, int steps)
    {
        const int b = 4, t = 32;
        using var model = new GptNetwork(Model, kernels);
        model.InitializeWeights(42);
        model.Precision = precision;
        using var optimizer = new AdamWOptimizer(model, new AdamWSettings());
        var stepper = new GradientAccumulationStep(model, optimizer, new GradientClipper(model), new SingleProcess());
        var schedule = new LearningRateSchedule(3e-3f, 3e-4f, 5, steps);
        var rng = new Rng(7);

        // A learnable stream: each token mostly follows from the one before.
        var tokens = new int[(steps * 2 * b * t) + 1];
        for (int i = 1; i < tokens.Length; i++)
        {
            tokens[i] = rng.NextDouble() < 0.8 ? ((tokens[i - 1] * 7) + 3) % Model.VocabSize : rng.NextInt(Model.VocabSize);
        }

        var losses = new float[steps];
        for (int s = 0; s < steps; s++)
        {
            int step = s;
            losses[s] = stepper.Run(2, b, t, micro =>
            {
                int at = ((2 * step) + micro) * b * t;
                return (tokens[at..(at + (b * t))], tokens[(at + 1)..(at + 1 + (b * t))]);
            }, schedule.At(s), 1f).Loss;
        }

        return losses;
    }
}
