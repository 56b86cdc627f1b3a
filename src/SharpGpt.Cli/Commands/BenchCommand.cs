using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SharpGpt.Distributed;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Training;
using Spectre.Console;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt bench</c>: times full training steps (forward, backward, clip, AdamW) on random tokens.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "Model size: gpt2-124m, gpt2-350m, gpt2-774m, gpt2-1558m", DefaultValueFactory = _ => "gpt2-124m" };
        var layers = new Option<int>("--layers") { Description = "Override the number of layers" };
        var heads = new Option<int>("--heads") { Description = "Override the number of heads" };
        var embd = new Option<int>("--embd") { Description = "Override the embedding width" };
        var vocab = new Option<int>("--vocab") { Description = "Override the vocabulary size (e.g. 65 for Tiny Shakespeare's characters)" };
        var blockSize = new Option<int>("--block-size") { Description = "Override the block size" };
        var batch = new Option<int>("--batch") { Description = "Micro-batch size B", DefaultValueFactory = _ => 4 };
        var seq = new Option<int>("--seq") { Description = "Sequence length T", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Timed steps", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up steps", DefaultValueFactory = _ => 2 };
        var dtype = CommonOptions.Dtype();
        var profile = new Option<bool>("--profile") { Description = "Print the time spent in each kernel" };
        var attention = new Option<AttentionAlgorithm>("--attention") { Description = "Attention kernel: Flash (state linear in T) or Plain (keeps the T x T softmax)", DefaultValueFactory = _ => AttentionAlgorithm.Flash };
        var peak = new Option<double>("--peak-gflops") { Description = "fp32 peak for MFU (default: measured now with an FMA loop in the GEMM's instruction set, on all the threads)" };
        var threads = CommonOptions.Threads();
        var parallel = CommonOptions.Parallel();
        var device = CommonOptions.Device();
        var command = new Command("bench", "Time GPT-2 training steps on random tokens and report ms/step, tokens/s and MFU.")
        {
            preset, layers, heads, embd, vocab, blockSize, batch, seq, steps, warmup, dtype, profile, attention, peak, threads, parallel, device,
        };
        command.SetAction(r =>
        {
            var config = CommonOptions.Preset(r.GetValue(preset)!);
            config = config with
            {
                NumLayers = r.GetValue(layers) > 0 ? r.GetValue(layers) : config.NumLayers,
                NumHeads = r.GetValue(heads) > 0 ? r.GetValue(heads) : config.NumHeads,
                Channels = r.GetValue(embd) > 0 ? r.GetValue(embd) : config.Channels,
                VocabSize = r.GetValue(vocab) > 0 ? r.GetValue(vocab) : config.VocabSize,
                MaxSeqLen = r.GetValue(blockSize) > 0 ? r.GetValue(blockSize) : config.MaxSeqLen,
            };
            return Run(config, r.GetValue(batch), r.GetValue(seq), r.GetValue(steps), r.GetValue(warmup), r.GetValue(profile),
                r.GetValue(attention), r.GetValue(dtype), r.GetValue(peak), CommonOptions.ResolveThreads(r.GetValue(threads)), r.GetValue(parallel), r.GetValue(device)!);
        });
        return command;
    }

    private static int Run(GptConfig config, int b, int t, int steps, int warmup, bool profile, AttentionAlgorithm attention, Precision precision, double peakGflops, int threads,
        ThreadParallelism parallel, ComputeDevice device)
    {
        config.Validate("model options");
        if (t > config.MaxSeqLen)
        {
            throw new SharpGptException("--seq", $"{t} exceeds the model's block size {config.MaxSeqLen}", "use a shorter --seq, or a larger --block-size.");
        }

        if (b <= 0 || t <= 0)
        {
            throw new SharpGptException("--batch, --seq", $"must be positive, got {b} and {t}.");
        }

        long n = new ParameterLayout(config).UnpaddedTotal;
        using var hostRunner = new ParallelRunner(threads);
        using var backend = CommonOptions.CreateBackend(device, hostRunner);
        var plan = backend.IsGpu ? new ThreadPlan(1, threads) : ThreadPlan.Choose(parallel, threads, b, 1, n);
        int ranks = plan.Ranks, rankBatch = b / ranks;
        var runners = new ParallelRunner[ranks];
        var models = new GptNetwork[ranks];
        ProfilingKernels? profiler = null;
        try
        {
            for (int rank = 0; rank < ranks; rank++)
            {
                runners[rank] = new ParallelRunner(plan.ThreadsPerRank);
                IGptKernels cpu = backend.IsGpu ? backend.Kernels : new CpuKernels(runners[rank], attention);
                profiler ??= profile ? new ProfilingKernels(cpu) : null; // rank 0's kernels
                if (rank == 0)
                {
                    models[0] = new GptNetwork(config, profiler ?? (IGptKernels)cpu);
                    models[0].InitializeWeights(1337);
                }
                else
                {
                    models[rank] = models[0].Replicate(cpu);
                }

                models[rank].Precision = precision;
                models[rank].EnsureBatch(rankBatch, t);
            }

            var (inputs, targets) = new Rng(42).NextTokens(b * t, config.VocabSize);

            // No peak is known for an emulated GPU: its MFU is not reported.
            double peak = peakGflops > 0 ? peakGflops * 1e9 : backend.IsGpu ? double.NaN : MeasurePeak(threads);
            string dtype = precision.ToString().ToLowerInvariant();
            // nanoGPT's estimate: 6N per token for the matmuls, plus attention's 12 * L * C * T.
            double flopsPerStep = ((6.0 * n) + (12.0 * config.NumLayers * config.Channels * t)) * b * t;
            long activationBytes = models.Sum(m => m.ActivationBytes);
            string runsOn = backend.IsGpu ? $"{CommonOptions.NameOf(device)}, materialised attention"
                : $"{plan.Describe(b)}, {attention} attention, fp32 peak {peak / 1e9:F0} GFLOP/s ({PeakFlops.InstructionSet} FMA on {threads} threads)";
            // One plain line: Spectre would wrap it at 80 columns when the output is redirected.
            Console.WriteLine(FormattableString.Invariant($"bench: {config.NumLayers}L {config.NumHeads}H {config.Channels}C, {n / 1e6:F1}M params, B={b} T={t}, {runsOn}, {dtype}, activations {activationBytes / 1e6:F0} MB"));

            var times = ThreadRanks.Run(ranks, collectives =>
            {
                var model = models[collectives.Rank];
                // The optimizer train would use with these ranks, so the bench times the same step.
                using var optimizer = DistributedOptimizer.Create(model, new AdamWSettings(), collectives);
                var stepper = new GradientAccumulationStep(model, optimizer, collectives);
                int rows = rankBatch * t;
                var (myInputs, myTargets) = (inputs[(collectives.Rank * rows)..((collectives.Rank + 1) * rows)], targets[(collectives.Rank * rows)..((collectives.Rank + 1) * rows)]);
                var rankTimes = new List<double>();
                for (int step = 0; step < warmup + steps; step++)
                {
                    if (step == warmup)
                    {
                        profiler?.Reset();
                    }

                    long start = Stopwatch.GetTimestamp();
                    float loss = stepper.Run(1, rankBatch, t, _ => (myInputs, myTargets), 6e-4f, 1f).Loss;
                    model.Kernels.Synchronize(); // a GPU's last kernels of the step (AdamW) run asynchronously
                    double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    if (collectives.Rank != 0)
                    {
                        continue;
                    }

                    if (step >= warmup)
                    {
                        rankTimes.Add(ms);
                    }

                    string mfu = double.IsNaN(peak) ? "" : FormattableString.Invariant($", MFU {flopsPerStep / (ms / 1000) / peak * 100:F1}%");
                    Console.WriteLine(FormattableString.Invariant($"{(step < warmup ? "warmup" : "step")} {step - (step < warmup ? 0 : warmup)}: loss {loss:F4}, {ms:F1} ms, {b * t / (ms / 1000):F0} tok/s{mfu}"));
                }

                return rankTimes;
            });

            times.Sort();
            double median = times.Count == 0 ? double.NaN : times[times.Count / 2];
            if (profiler is not null)
            {
                PrintProfile(profiler, steps, median, ranks);
            }

            var summary = new Dictionary<string, object?>
            {
                ["device"] = device,
                ["ms_per_step"] = Math.Round(median, 2),
                ["tokens_per_s"] = Math.Round(b * t / (median / 1000), 1),
                ["mfu"] = double.IsNaN(peak) ? null : Math.Round(flopsPerStep / (median / 1000) / peak, 4),
                ["model_gflops_per_s"] = Math.Round(flopsPerStep / (median / 1000) / 1e9, 1),
                ["peak_gflops_per_s"] = double.IsNaN(peak) ? null : Math.Round(peak / 1e9, 1),
                ["gemm"] = backend.IsGpu ? null : PeakFlops.InstructionSet,
                ["min_ms"] = Math.Round(times.Count == 0 ? double.NaN : times[0], 2),
                ["batch"] = b,
                ["seq"] = t,
                ["threads"] = threads,
                ["ranks"] = ranks,
                ["params"] = n,
                ["dtype"] = dtype,
                ["activation_bytes"] = activationBytes,
                ["attention"] = backend.IsGpu ? "materialised" : attention.ToString(),
            };
            Console.WriteLine(JsonSerializer.Serialize(summary));
            return 0;
        }
        finally
        {
            foreach (var model in models)
            {
                model?.Dispose();
            }

            foreach (var runner in runners)
            {
                runner?.Dispose();
            }
        }
    }

    private static double MeasurePeak(int threads)
    {
        using var runner = new ParallelRunner(threads);
        return PeakFlops.Measure(runner);
    }

    private static void PrintProfile(ProfilingKernels profiler, int steps, double medianMs, int ranks)
    {
        if (ranks > 1)
        {
            AnsiConsole.MarkupLineInterpolated($"[grey]rank 0 of {ranks}; its share of the micro-batch:[/]");
        }

        var table = new Table().AddColumns("kernel", "ms/step", "share", "calls/step");
        double total = profiler.Totals.Values.Sum(v => v.Seconds);
        foreach (var (name, (seconds, calls)) in profiler.Totals.OrderByDescending(kv => kv.Value.Seconds))
        {
            table.AddRow(name, (seconds * 1000 / steps).ToString("F1", CultureInfo.InvariantCulture),
                (seconds / total).ToString("P0", CultureInfo.InvariantCulture), (calls / steps).ToString(CultureInfo.InvariantCulture));
        }

        table.AddRow(ranks > 1 ? "[grey]outside kernels (gradient sum, AdamW + zeroing, clip)[/]" : "[grey]outside kernels (AdamW + zeroing, clip)[/]", Math.Max(0, medianMs - (total * 1000 / steps)).ToString("F1", CultureInfo.InvariantCulture), "", "");
        AnsiConsole.Write(table);
    }
}
