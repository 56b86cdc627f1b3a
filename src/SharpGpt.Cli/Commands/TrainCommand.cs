using System.CommandLine;
using SharpGpt.Data;
using SharpGpt.Distributed;
using SharpGpt.Formats;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Training;
using Spectre.Console;

namespace SharpGpt.Cli.Commands;

/// <summary>
/// <c>sharpgpt train</c>. Without --data it trains a character-level GPT on the embedded Tiny
/// Shakespeare with nanoGPT's CPU quick-start settings; with --data, a short GPT-2 run; with --recipe,
/// a published run (<see cref="TrainingRecipe"/>). Flags given explicitly override any of these.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<DirectoryInfo?>("--data") { Description = "Prepared data folder (sharpgpt prepare); default: the embedded Tiny Shakespeare, char-level" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder for checkpoints, metrics.jsonl and loss.png", DefaultValueFactory = _ => new DirectoryInfo("out") };
        var preset = new Option<string?>("--preset") { Description = "Model size: gpt2-124m, gpt2-350m, gpt2-774m, gpt2-1558m" };
        var layers = new Option<int?>("--layers") { Description = "Number of layers" };
        var heads = new Option<int?>("--heads") { Description = "Number of attention heads" };
        var embd = new Option<int?>("--embd") { Description = "Embedding width" };
        var blockSize = new Option<int?>("--block-size") { Description = "Maximum sequence length of the model" };
        var initFrom = new Option<FileInfo?>("--init-from") { Description = "Start from the weights of a checkpoint (.sgpt, llm.c .bin, or a Hugging Face model.safetensors or folder)" };
        var totalBatch = new Option<long?>("--total-batch-tokens") { Description = "Tokens per optimizer step (reached by gradient accumulation); default: one micro-batch" };
        var microBatch = new Option<string?>("--micro-batch") { Description = "Sequences per micro-step, or 'auto' to fit --memory-budget" };
        var memoryBudget = new Option<string>("--memory-budget") { Description = "Memory for --micro-batch auto (default 8GiB; on a GPU, 92% of its free memory)", DefaultValueFactory = _ => "8GiB" };
        var seqLen = new Option<int?>("--seq-len") { Description = "Tokens per sequence T" };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Optimizer steps" };
        var lr = new Option<float?>("--lr") { Description = "Peak learning rate" };
        var minLr = new Option<float?>("--min-lr") { Description = "Learning rate at the end of the cosine decay (default 10% of --lr)" };
        var warmup = new Option<int?>("--warmup") { Description = "Linear warm-up steps" };
        var weightDecay = new Option<float?>("--weight-decay") { Description = "AdamW weight decay on matrices and embeddings (default 0.1)" };
        var beta1 = new Option<float?>("--beta1") { Description = "AdamW beta1 (default 0.9)" };
        var beta2 = new Option<float?>("--beta2") { Description = "AdamW beta2 (default 0.95; 0.99 for the Shakespeare default)" };
        var gradClip = new Option<float?>("--grad-clip") { Description = "Clip the global gradient norm to this (0 = off; default 1.0)" };
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialisation and sampling", DefaultValueFactory = _ => 1337 };
        var valEvery = new Option<int?>("--val-every") { Description = "Validate every N steps and after the last step (0 = never)" };
        var valSteps = new Option<int?>("--val-steps") { Description = "Validation batches per evaluation, the last included (0 = whole split)" };
        var finalValSteps = new Option<int?>("--final-val-steps") { Description = "Validation batches after the last step (default: --val-steps; 0 = whole split, the default for Tiny Shakespeare)" };
        var sampleEvery = new Option<int?>("--sample-every") { Description = "Print a sample every N steps (0 = off)" };
        var sampleTokens = new Option<int>("--sample-tokens") { Description = "Tokens per sample", DefaultValueFactory = _ => 200 };
        var checkpointEvery = new Option<int?>("--checkpoint-every") { Description = "Write a checkpoint every N steps (and at the end)" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the latest checkpoint in --out" };
        var batches = new Option<string?>("--batches") { Description = "How training batches are drawn: sequential (llm.c; default with --data) or random windows (nanoGPT; default for Tiny Shakespeare)" };
        batches.AcceptOnlyFromAmong("sequential", "random");
        var hellaSwag = new Option<FileInfo?>("--hellaswag") { Description = "HellaSwag JSONL to score during training; acc_norm goes to metrics.jsonl as hella_acc" };
        var hellaSwagEvery = new Option<int?>("--hellaswag-every") { Description = "Score HellaSwag every N steps (0 = only after the last step; default 250)" };
        var hellaSwagLimit = new Option<int>("--hellaswag-limit") { Description = "Score only the first N HellaSwag examples (0 = all)" };
        var zero = new Option<int>("--zero") { Description = "ZeRO stage under mpirun: 0 = every rank holds all AdamW moments, 1 = the moments are sharded across ranks" };
        var commChunk = CommonOptions.CommChunk();
        var threads = CommonOptions.Threads();
        var parallel = CommonOptions.Parallel();
        var dtype = CommonOptions.Dtype();
        var device = CommonOptions.Device();
        var (recipe, dryRun, dryRunSteps) = TrainPlanOptions.Create();

        var command = new Command("train", "Train a GPT. With no arguments: a character-level GPT on Tiny Shakespeare, writing to ./out.")
        {
            data, output, preset, layers, heads, embd, blockSize, initFrom, totalBatch, microBatch, memoryBudget, seqLen, maxSteps, lr, minLr,
            warmup, weightDecay, beta1, beta2, gradClip, seed, valEvery, valSteps, sampleEvery, sampleTokens, checkpointEvery, resume, batches,
            hellaSwag, hellaSwagEvery, hellaSwagLimit, zero, commChunk, threads, parallel, dtype, device, recipe, dryRun, dryRunSteps,
        };
        command.Options.Add(finalValSteps);

        // Under mpirun every rank runs this; rank 0 alone prints and writes.
        command.SetAction(r => DistributedRun.Run(r, r.GetValue(commChunk), collectives =>
        {
            bool main = collectives.Rank == 0;
            var outDir = r.GetValue(output)!.FullName;
            if (File.Exists(outDir))
            {
                throw new UserErrorException(outDir, "a file, not a folder", "pass a folder to --out.");
            }

            Directory.CreateDirectory(outDir);

            // The device first: its line is the first of the run's output.
            int threadCount = CommonOptions.ResolveThreads(r.GetValue(threads));
            using var runner = new ParallelRunner(threadCount);
            using var backend = CommonOptions.CreateBackend(r.GetValue(device)!, runner, announce: main, collectives.WorldSize);
            var d = TrainingRecipe.Resolve(r.GetValue(recipe), hasData: r.GetValue(data) is not null);
            string dataDir = r.GetValue(data)?.FullName ?? PrepareEmbedded(outDir, collectives);
            ITextTokenizer tokenizer = TokenizerFactory.LoadForDataDir(dataDir);
            int t = r.GetValue(seqLen) ?? d.SeqLen;

            var kernels = backend.Kernels;
            using var model = CreateModel(r.GetValue(initFrom), r.GetValue(preset) ?? (r.GetValue(initFrom) is null ? d.Preset : null), r.GetValue(layers), r.GetValue(heads), r.GetValue(embd),
                r.GetValue(blockSize) ?? Math.Max(t, d.BlockSize), tokenizer, kernels, r.GetValue(seed), isShakespeare: d == TrainingRecipe.TinyShakespeare,
                initialize: !r.GetValue(dryRun) || r.GetValue(dryRunSteps) > 0);

            Precision precision = r.GetValue(dtype);
            long total = r.GetValue(totalBatch) ?? d.TotalBatchTokens;
            int b;
            string? micro = r.GetValue(microBatch) ?? (d.AutoMicroBatch ? "auto" : null);
            long? autoBudget = null;
            if (string.Equals(micro, "auto", StringComparison.OrdinalIgnoreCase))
            {
                // On a GPU the budget is its memory unless one is given.
                long budget = r.GetResult(memoryBudget) is null or { Implicit: true } && backend.Device is { IsEmulated: false } gpu
                    ? (long)((gpu.MemoryBytes - gpu.MemoryInUse()) * 0.92)
                    : BatchPlan.ParseBytes(r.GetValue(memoryBudget)!);
                long wanted = total > 0 ? total : (long)d.MicroBatch * t;
                var (plan, bytes) = BatchPlan.Auto(model.Config, kernels, wanted, t, collectives.WorldSize, budget, precision);
                long state = BatchPlan.StateBytes(model.Config, precision);
                if (main)
                {
                    Console.WriteLine($"micro-batch auto: B={plan.MicroBatch} x T={t} x {plan.AccumulationSteps} accumulation steps = {plan.TotalBatchTokens:N0} tokens/step; memory {BatchPlan.Format(bytes)} (parameters, gradients and AdamW {BatchPlan.Format(state)}, activations {BatchPlan.Format(bytes - state)}) of {BatchPlan.Format(budget)} per rank");
                }

                b = plan.MicroBatch;
                total = plan.TotalBatchTokens;
                autoBudget = budget;
            }
            else
            {
                b = micro is null ? d.MicroBatch : int.TryParse(micro, out int parsed) && parsed > 0 ? parsed : throw new UserErrorException("--micro-batch", $"must be a positive number or 'auto', got '{micro}'.");
            }

            var options = new TrainingOptions
            {
                DataDir = dataDir,
                OutDir = outDir,
                MicroBatch = b,
                SeqLen = t,
                TotalBatchTokens = total,
                MaxSteps = r.GetValue(maxSteps) ?? d.MaxSteps,
                LearningRate = r.GetValue(lr) ?? d.Lr,
                MinLearningRate = r.GetValue(minLr) ?? (r.GetValue(lr) is float given ? given * d.MinLrFraction : d.MinLr),
                WarmupSteps = r.GetValue(warmup) ?? d.Warmup,
                Adam = new AdamWSettings(r.GetValue(beta1) ?? d.Beta1, r.GetValue(beta2) ?? d.Beta2, d.Eps, r.GetValue(weightDecay) ?? d.WeightDecay),
                GradClip = r.GetValue(gradClip) ?? d.GradClip,
                Seed = r.GetValue(seed),
                ValEvery = r.GetValue(valEvery) ?? d.ValEvery,
                ValSteps = r.GetValue(valSteps) ?? d.ValSteps,
                FinalValSteps = r.GetValue(finalValSteps) ?? (r.GetValue(valSteps) is null ? d.FinalValSteps : null),
                SampleEvery = r.GetValue(sampleEvery) ?? d.SampleEvery,
                CheckpointEvery = r.GetValue(checkpointEvery) ?? d.CheckpointEvery,
                Resume = r.GetValue(resume),
                RandomWindows = (r.GetValue(batches) ?? d.Batches) == "random",
                HellaSwagPath = r.GetValue(hellaSwag)?.FullName,
                HellaSwagEvery = r.GetValue(hellaSwagEvery) ?? d.HellaSwagEvery,
                HellaSwagLimit = r.GetValue(hellaSwagLimit),
                ZeroStage = r.GetValue(zero),
                CollectiveChunkFloats = r.GetValue(commChunk) > 0 ? r.GetValue(commChunk) : throw new UserErrorException("--comm-chunk", $"must be positive, got {r.GetValue(commChunk)}."),
                Precision = precision,
                Device = backend.Kind,
            };

            if (main && precision == Precision.Bf16)
            {
                Console.WriteLine("precision: bf16 matmuls (bf16 weights and input activations, fp32 sums); fp32 master weights, gradients and AdamW");
            }

            int sampleLength = r.GetValue(sampleTokens);
            // On a GPU the host threads only feed it: one model, one rank.
            var threadPlan = backend.IsGpu ? new ThreadPlan(1, threadCount) : ThreadPlan.Choose(r.GetValue(parallel), threadCount, b, collectives.WorldSize, model.Layout.UnpaddedTotal);
            var settings = TrainSettingSources.Describe(r, d, model.Config, options, micro, r.GetValue(memoryBudget)!);
            if (r.GetValue(dryRun))
            {
                return main ? TrainDryRun.Run(model, tokenizer, options, settings, d, collectives.WorldSize, threadCount, autoBudget, r.GetValue(dryRunSteps)) : 0;
            }

            if (main)
            {
                TrainSettingSources.Print(d, settings);
            }

            using var signals = new StopSignals("train");
            // MFU's denominator: the peak of every thread of every rank (none known for a GPU here).
            Span<double> peak = [backend.IsGpu ? 0 : PeakFlops.Measure(runner)];
            collectives.AllReduceSum(peak);
            if (!main)
            {
                var outcome = new Trainer(model, options, collectives, new QuietTrainingObserver()).Run(signals.Token);
                return outcome.Diverged ? 3 : outcome.Interrupted ? StopSignals.ExitCode : 0;
            }

            if (!backend.IsGpu)
            {
                Console.WriteLine(threadPlan.Describe(b));
            }

            var observer = new ConsoleTrainingObserver(peak[0]);
            if (threadPlan.Ranks > 1)
            {
                return TrainOnThreadRanks(threadPlan, model, options with { MicroBatch = b / threadPlan.Ranks }, observer, tokenizer, sampleLength, signals.Token, ResumeCommand(r));
            }

            var trainer = new Trainer(model, options, collectives, observer, TextSampling.Create(model, tokenizer, sampleLength), TokenizerFile.Of(tokenizer).ToJson());
            return Finish(RunWithProgress(trainer, observer, signals.Token), model, tokenizer, sampleLength, options, ResumeCommand(r));
        }));
        return command;
    }

    /// <summary>Trains with each thread a data-parallel rank: replicas of <paramref name="model"/>, each on
    /// one thread with its share of the micro-batch; rank 0 prints, samples and writes.</summary>
    private static int TrainOnThreadRanks(ThreadPlan plan, GptModel model, TrainingOptions options, ConsoleTrainingObserver observer,
        ITextTokenizer tokenizer, int sampleLength, CancellationToken stop, string resumeCommand)
    {
        var runners = new ParallelRunner[plan.Ranks];
        var replicas = new GptModel[plan.Ranks];
        try
        {
            for (int rank = 0; rank < plan.Ranks; rank++)
            {
                runners[rank] = new ParallelRunner(plan.ThreadsPerRank);
                replicas[rank] = model.Replicate(new CpuKernels(runners[rank]));
            }

            var outcome = ThreadRanks.Run(plan.Ranks, collectives => collectives.Rank == 0
                ? RunWithProgress(new Trainer(replicas[0], options, collectives, observer, TextSampling.Create(replicas[0], tokenizer, sampleLength), TokenizerFile.Of(tokenizer).ToJson()), observer, stop)
                : new Trainer(replicas[collectives.Rank], options, collectives, new QuietTrainingObserver()).Run(stop));
            return Finish(outcome, replicas[0], tokenizer, sampleLength, options, resumeCommand);
        }
        finally
        {
            foreach (var replica in replicas)
            {
                replica?.Dispose();
            }

            foreach (var runner in runners)
            {
                runner?.Dispose();
            }
        }
    }

    private static TrainingOutcome RunWithProgress(Trainer trainer, ConsoleTrainingObserver observer, CancellationToken stop)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            return trainer.Run(stop);
        }

        return AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                observer.Progress = ctx.AddTask("training");
                return trainer.Run(stop);
            });
    }

    /// <summary>This run's command line with --resume: what continues it from its latest checkpoint.</summary>
    private static string ResumeCommand(ParseResult parse)
    {
        var words = parse.Tokens.Select(t => t.Value).ToList();
        if (!parse.GetValue<bool>("--resume"))
        {
            words.Add("--resume");
        }

        return "sharpgpt " + string.Join(' ', words.Select(ShellQuote));
    }

    private static string ShellQuote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@%+".Contains(c)) ? word : $"'{word.Replace("'", "'\\''", StringComparison.Ordinal)}'";

    private static string PrepareEmbedded(string outDir, ICollectives collectives)
    {
        string dir = Path.Combine(outDir, "data");
        if (collectives.Rank == 0)
        {
            if (!File.Exists(Path.Combine(dir, PreparedDataMeta.FileName)))
            {
                DataPreparer.PrepareEmbeddedShakespeare(dir, new PrepareOptions { Tokenizer = CharTokenizer.TypeName });
            }

            Console.WriteLine($"data: embedded Tiny Shakespeare, char-level, in {dir}");
        }

        // The other ranks read what rank 0 wrote (several machines need --out on a shared file system, or --data).
        collectives.Barrier();
        return dir;
    }

    private static GptModel CreateModel(FileInfo? initFrom, string? preset, int? layers, int? heads, int? embd, int blockSize,
        ITextTokenizer tokenizer, IGptKernels kernels, ulong seed, bool isShakespeare, bool initialize)
    {
        if (initFrom is not null)
        {
            if (preset is not null || layers is not null || heads is not null || embd is not null)
            {
                throw new UserErrorException("--init-from", "it takes the model's shape from the checkpoint", "drop --preset/--layers/--heads/--embd.");
            }

            var (loaded, _) = ModelFile.Load(initFrom.FullName, kernels);
            if (loaded.Config.VocabSize < tokenizer.VocabSize)
            {
                loaded.Dispose();
                throw new UserErrorException(initFrom.FullName, $"the model's vocabulary ({loaded.Config.VocabSize}) is smaller than the data's ({tokenizer.VocabSize}).");
            }

            return loaded;
        }

        var config = preset is not null ? GptConfig.FromPreset(preset)
            : isShakespeare || tokenizer.VocabSize < 1000 ? new GptConfig(blockSize, tokenizer.VocabSize, 4, 4, 128)
            : GptConfig.Gpt2Small;
        config = config with
        {
            VocabSize = tokenizer.VocabSize,
            MaxSeqLen = blockSize,
            NumLayers = layers ?? config.NumLayers,
            NumHeads = heads ?? config.NumHeads,
            Channels = embd ?? config.Channels,
        };
        config.Validate("model options");
        var model = new GptModel(config, kernels);
        if (initialize)
        {
            model.InitializeWeights(seed);
        }

        return model;
    }

    private static int Finish(TrainingOutcome outcome, GptModel model, ITextTokenizer tokenizer, int sampleTokens, TrainingOptions options, string resumeCommand)
    {
        if (outcome.Diverged)
        {
            return 3;
        }

        if (outcome.Interrupted)
        {
            Console.WriteLine($"stopped after {outcome.Steps} step(s) of this run; checkpoint: {outcome.LastCheckpoint}");
            Console.WriteLine($"resume with: {resumeCommand}");
            return StopSignals.ExitCode;
        }

        if (outcome.FinalValLoss is float val)
        {
            string scope = outcome.FinalValWholeSplit ? "whole split" : $"{outcome.FinalValBatches} batches";
            Console.WriteLine(FormattableString.Invariant($"final validation loss ({scope}): {val:F4}"));
        }

        Console.WriteLine(FormattableString.Invariant($"trained {outcome.Steps} steps in {outcome.TrainingSeconds:F1} s"));
        var sampler = TextSampling.Create(model, tokenizer, sampleTokens);
        if (sampler is not null)
        {
            Console.WriteLine("sample:");
            Console.WriteLine(sampler(new Rng(options.Seed)));
        }

        Console.WriteLine($"checkpoint: {outcome.LastCheckpoint ?? "(none)"}");
        Console.WriteLine($"metrics:    {Path.Combine(options.OutDir, "metrics.jsonl")}");
        Console.WriteLine($"plot:       {Path.Combine(options.OutDir, "loss.png")}");
        return 0;
    }
}
