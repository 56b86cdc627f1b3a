using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SharpGpt.Devices;
using SharpGpt.Gpu;
using SharpGpt.Gpu.Check;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Training;
using Spectre.Console;

namespace SharpGpt.Cli.Commands;

/// <summary>
/// <c>sharpgpt gpu-check</c>: what the GPU is; then smoke (every kernel and every product shape of a
/// small model against the CPU backend, and 20 training steps against the CPU's); then bench (GPT-2
/// 124M at T = 1024 in bf16 at the largest micro-batch that fits). Exit 2 without a CUDA device, 1
/// on a mismatch; the last line is the results as JSON.
/// </summary>
internal static class GpuCheckCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "cuda (the default), or cuda-emulated to run the checks on the emulated device", DefaultValueFactory = _ => "cuda" };
        device.AcceptOnlyFromAmong("cuda", "cuda-emulated");
        var skipBench = new Option<bool>("--skip-bench") { Description = "Only the device and the smoke test" };
        var benchSteps = new Option<int>("--bench-steps") { Description = "Timed bench steps (after 3 untimed)", DefaultValueFactory = _ => 10 };
        var benchBatch = new Option<int>("--bench-batch") { Description = "Micro-batch of the bench (default: the largest that fits, at least 16 where it can)" };
        var trainingSteps = new Option<int>("--training-steps") { Description = "Steps of the training check on each device", DefaultValueFactory = _ => 20 };
        var threads = CommonOptions.Threads();
        var command = new Command("gpu-check", "Check the GPU: the device, every kernel against the CPU, 20 training steps against the CPU, and a GPT-2 124M bench.")
        {
            device, skipBench, benchSteps, benchBatch, trainingSteps, threads,
        };
        command.SetAction(r => Run(r.GetValue(device)!, r.GetValue(skipBench), r.GetValue(benchSteps), r.GetValue(benchBatch), r.GetValue(trainingSteps),
            CommonOptions.ResolveThreads(r.GetValue(threads))));
        return command;
    }

    private static int Run(string deviceName, bool skipBench, int benchSteps, int benchBatch, int trainingSteps, int threads)
    {
        if (benchSteps < 1)
        {
            throw new SharpGptException("--bench-steps", $"must be at least 1, got {benchSteps}.");
        }

        if (trainingSteps < 1)
        {
            throw new SharpGptException("--training-steps", $"must be at least 1, got {trainingSteps}.");
        }

        using var runner = new ParallelRunner(threads);
        ComputeBackend backend;
        try
        {
            backend = ComputeBackend.Create(deviceName == "cuda" ? DeviceKind.Cuda : DeviceKind.CudaEmulated, runner);
        }
        catch (GpuUnavailableException e)
        {
            Console.Error.WriteLine($"sharpgpt gpu-check: no CUDA device: {e.Problem}");
            return 2;
        }

        using (backend)
        {
            var gpu = ((GpuBackend)backend.Gpu!).GpuKernels;
            var cpu = new CpuKernels(runner);
            var report = new Dictionary<string, object?> { ["device"] = backend.Describe() };
            Console.WriteLine(backend.Describe());

            var smoke = GpuSmokeTest.Run(gpu, cpu);
            var table = new Table().AddColumns("kernel", "max difference", "");
            foreach (var check in smoke)
            {
                table.AddRow(Markup.Escape(check.What), check.MaxDifference.ToString("G3", CultureInfo.InvariantCulture), check.Passed ? "[green]ok[/]" : "[red]MISMATCH[/]");
            }

            AnsiConsole.Write(table);
            foreach (var failure in smoke.Where(c => !c.Passed))
            {
                Console.WriteLine(failure);
            }

            report["smoke"] = smoke.Select(c => new { check = c.What, max_difference = c.MaxDifference, passed = c.Passed }).ToList();
            bool passed = smoke.All(c => c.Passed);
            foreach (var precision in new[] { Precision.Fp32, Precision.Bf16 })
            {
                var (cpuLosses, gpuLosses, relative, ok) = GpuTrainingCheck.Run(gpu, cpu, precision, trainingSteps);
                string name = precision.ToString().ToLowerInvariant();
                Console.WriteLine(FormattableString.Invariant(
                    $"training, {name}, {cpuLosses.Length} steps: losses {cpuLosses[0]:F4} -> {cpuLosses[^1]:F4} (cpu), {gpuLosses[0]:F4} -> {gpuLosses[^1]:F4} (gpu), max relative difference {relative:G3}: {(ok ? "ok" : "MISMATCH")}"));
                report[$"training_{name}"] = new { cpu = cpuLosses, gpu = gpuLosses, max_relative = relative, passed = ok };
                passed &= ok;
            }

            if (skipBench || backend.Kind == DeviceKind.CudaEmulated)
            {
                Console.WriteLine(skipBench ? "bench: skipped (--skip-bench)" : "bench: skipped on the emulated device, which refuses GPT-2 124M");
            }
            else
            {
                report["bench"] = Bench(gpu, benchSteps, benchBatch);
            }

            Console.WriteLine($"blas: {gpu.Device.EpilogueReport}");
            report["blas_epilogue"] = gpu.Device.EpilogueReport;
            report["passed"] = passed;
            Console.WriteLine(JsonSerializer.Serialize(report));
            return passed ? 0 : 1;
        }
    }

    private static object Bench(GpuKernels gpu, int steps, int requestedBatch)
    {
        var config = GptConfig.Gpt2Small;
        const int t = 1024;
        var device = gpu.Device;
        long budget = (long)((device.MemoryBytes - device.MemoryInUse()) * 0.92);
        int b = requestedBatch > 0 ? requestedBatch : GpuBench.LargestMicroBatch(config, gpu, t, Precision.Bf16, budget);
        if (b == 0)
        {
            throw new SharpGptException("gpu-check bench", $"not even one sequence of GPT-2 124M at T = {t} fits in {BatchPlan.Format(budget)} of free GPU memory");
        }

        Console.WriteLine($"bench: GPT-2 124M, T={t}, bf16, micro-batch {b}{(b < 16 && requestedBatch == 0 ? " (16 does not fit)" : "")}, {steps} timed steps after 3 ...");
        var result = GpuBench.Run(gpu, config, b, t, Precision.Bf16, steps, warmup: 3);
        string mfu = result.Mfu is double m ? FormattableString.Invariant($"MFU {m * 100:F1}% of the {result.PeakPart}'s {result.PeakTflops:F0} TFLOP/s dense bf16") : "MFU unknown (no published peak for this device)";
        Console.WriteLine(FormattableString.Invariant(
            $"bench: {result.MsPerStep:F1} ms/step, {result.TokensPerSecond:F0} tokens/s, {result.ModelTflops:F1} TFLOP/s of model work, peak memory {BatchPlan.Format(result.PeakMemoryBytes)}, {mfu}; last loss {result.LastLoss:F4}"));
        return new
        {
            model = "gpt2-124m",
            micro_batch = b,
            seq_len = t,
            dtype = "bf16",
            ms_per_step = Math.Round(result.MsPerStep, 2),
            tokens_per_s = Math.Round(result.TokensPerSecond, 0),
            model_tflops = Math.Round(result.ModelTflops, 2),
            peak_memory_bytes = result.PeakMemoryBytes,
            peak_tflops = result.PeakTflops,
            mfu = result.Mfu is double f ? Math.Round(f, 4) : (double?)null,
        };
    }
}
