using System.Diagnostics;
using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Gpu.Check;

/// <summary>
/// gpu-check's bench: full training steps (forward, backward, clip, AdamW) of a model on the GPU at
/// the largest micro-batch that fits in its free memory, timed with the device synchronized.
/// </summary>
internal static class GpuBench
{
    public sealed record Result(GptConfig Config, int MicroBatch, int SeqLen, Precision Precision, double MsPerStep, double TokensPerSecond,
        long PeakMemoryBytes, double ModelTflops, double? PeakTflops, string? PeakPart, float LastLoss)
    {
        public double? Mfu => PeakTflops is double peak ? ModelTflops / peak : null;
    }

    /// <summary>The largest micro-batch (from a few sizes, largest first) whose step fits in <paramref name="budgetBytes"/>, or 0.</summary>
    public static int LargestMicroBatch(GptConfig config, GpuKernels kernels, int t, Precision precision, long budgetBytes)
    {
        int[] sizes = [128, 96, 64, 48, 32, 24, 16, 12, 8, 4, 2, 1];
        long state = BatchPlan.StateBytes(config, precision);
        return sizes.FirstOrDefault(b => state + Activations.BytesFor(config, kernels, b, t, precision) <= budgetBytes);
    }

    public static Result Run(GpuKernels kernels, GptConfig config, int b, int t, Precision precision, int steps, int warmup)
    {
        var device = kernels.Device;
        using var model = new GptNetwork(config, kernels);
        model.InitializeWeights(1337);
        model.Precision = precision;
        using var optimizer = new AdamWOptimizer(model, new AdamWSettings());
        var stepper = new GradientAccumulationStep(model, optimizer, new GradientClipper(model), new SingleProcess());
        var (inputs, targets) = new Rng(42).NextTokens(b * t, config.VocabSize);

        var times = new List<double>();
        long peakMemory = 0;
        float loss = 0;
        for (int step = 0; step < warmup + steps; step++)
        {
            long start = Stopwatch.GetTimestamp();
            loss = stepper.Run(1, b, t, _ => (inputs, targets), 6e-4f, 1f).Loss;
            kernels.Synchronize();
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            peakMemory = Math.Max(peakMemory, device.MemoryInUse());
            if (step >= warmup)
            {
                times.Add(ms);
            }
        }

        times.Sort();
        double median = times[times.Count / 2];
        long parameters = model.Layout.UnpaddedTotal;
        double flops = ((6.0 * parameters) + (12.0 * config.NumLayers * config.Channels * t)) * b * t;
        var peak = GpuPeak.DenseBf16(device.Name, device.Multiprocessors);
        return new Result(config, b, t, precision, median, b * t / (median / 1000), peakMemory, flops / (median / 1000) / 1e12, peak?.Tflops, peak?.Part, loss);
    }
}
