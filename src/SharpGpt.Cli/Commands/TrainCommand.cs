using System.CommandLine;
using System.CommandLine.Parsing;
using SharpGpt.Plots;
using Spectre.Console;

namespace SharpGpt.Cli.Commands;

/// <summary>
/// <c>sharpgpt train</c>. Without --data it trains a character-level GPT on the embedded Tiny Shakespeare with
/// nanoGPT's CPU quick-start settings; with --data, a short GPT-2 run; with --recipe, a published run
/// (<see cref="TrainingRecipe"/>). Flags given explicitly override any of these. It parses, makes the model and the
/// data, and hands the rest to <see cref="GptModel.Train"/>.
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
        var epochs = new Option<double?>("--epochs") { Description = "Passes over the train split, instead of --max-steps" };
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
            data, output, preset, layers, heads, embd, blockSize, initFrom, totalBatch, microBatch, memoryBudget, seqLen, maxSteps, epochs, lr, minLr,
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
                throw new SharpGptException(outDir, "a file, not a folder", "pass a folder to --out.");
            }

            var d = ResolveRecipe(r.GetValue(recipe), hasData: r.GetValue(data) is not null);
            if (d.IsNamed && d.Model is null && r.GetValue(initFrom) is null)
            {
                throw new SharpGptException($"--recipe {d.Name}", "fine-tunes a pretrained model", "give --init-from MODEL (a .sgpt checkpoint, an llm.c .bin, or a Hugging Face GPT-2 model.safetensors or folder).");
            }

            var trainingData = r.GetValue(data) is { } dir ? TrainingData.FromDirectory(dir.FullName) : TrainingData.TinyShakespeare();
            int t = r.GetValue(seqLen) ?? d.Options.SequenceLength ?? 1024;
            var modelOptions = CommonOptions.ModelOptions(r.GetValue(device), r.GetValue(dtype), r.GetValue(threads), collectives.WorldSize) with { Seed = r.GetValue(seed) };
            using var model = CreateModel(r, initFrom, preset, layers, heads, embd, blockSize, d, t, trainingData, modelOptions,
                initialize: !r.GetValue(dryRun) || r.GetValue(dryRunSteps) > 0);
            if (main && (model.Device != ComputeDevice.Cpu || r.GetValue(device) == ComputeDevice.Auto))
            {
                Console.WriteLine(model.DeviceDescription);
            }

            if (main && r.GetValue(data) is null)
            {
                Console.WriteLine("data: embedded Tiny Shakespeare, char-level");
            }

            var options = Options(r, d, t, outDir);
            if (r.GetValue(dryRun))
            {
                return main ? TrainDryRun.Run(r, model, trainingData, options, d, collectives.WorldSize, r.GetValue(dryRunSteps)) : 0;
            }

            using var signals = new StopSignals("train");
            var progress = new ConsoleTrainingProgress(plan => TrainSettingSources.Print(d, TrainSettingSources.Describe(r, d, model.Config, plan.Options)));
            var result = main ? RunWithProgress(progress, p => model.TrainAsRank(trainingData, options, collectives, p, signals.Token))
                : model.TrainAsRank(trainingData, options, collectives, null, signals.Token);
            return main ? Finish(result, model, options, r.GetValue(sampleTokens), ResumeCommand(r))
                : result.Diverged ? 3 : result.Stopped ? StopSignals.ExitCode : 0;
        }));
        return command;
    }

    /// <summary>The recipe a run starts from: the named one, else the defaults for training with or without --data.</summary>
    internal static TrainingRecipe ResolveRecipe(string? name, bool hasData)
    {
        if (name is null)
        {
            return hasData ? TrainingRecipe.DataDefaults : TrainingRecipe.ShakespeareChar;
        }

        var recipe = TrainingRecipe.Named.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new SharpGptException("--recipe", $"unknown recipe '{name}'", $"known: {string.Join(", ", TrainingRecipe.Named.Select(r => r.Name))}");
        return hasData ? recipe : throw new SharpGptException($"--recipe {recipe.Name}", "trains on GPT-2 tokens and needs --data", "give --data DIR, made by 'sharpgpt prepare'");
    }

    /// <summary>The recipe's options with every flag given on top.</summary>
    private static TrainingOptions Options(ParseResult r, TrainingRecipe d, int t, string outDir)
    {
        var o = d.Options;
        string? micro = r.GetValue<string?>("--micro-batch");
        int? microBatch = micro is null ? o.MicroBatchSize
            : string.Equals(micro, "auto", StringComparison.OrdinalIgnoreCase) ? null
            : int.TryParse(micro, out int parsed) && parsed > 0 ? parsed
            : throw new SharpGptException("--micro-batch", $"must be a positive number or 'auto', got '{micro}'.");
        var memoryBudget = r.GetResult("--memory-budget") is null or OptionResult { Implicit: true } ? (long?)null : ByteSize.Parse(r.GetValue<string>("--memory-budget")!, "--memory-budget");
        float? lr = r.GetValue<float?>("--lr");
        int? steps = r.GetValue<int?>("--max-steps");
        double? epochs = r.GetValue<double?>("--epochs");
        if (steps is not null && epochs is not null)
        {
            throw new SharpGptException("--max-steps and --epochs", "both set the length of the run", "give one of them.");
        }

        long commChunk = r.GetValue<long>("--comm-chunk");
        return o with
        {
            OutputDirectory = outDir,
            SequenceLength = t,
            MicroBatchSize = microBatch,
            MemoryBudgetBytes = microBatch is null ? memoryBudget ?? o.MemoryBudgetBytes : null,
            TotalBatchTokens = r.GetValue<long?>("--total-batch-tokens") ?? o.TotalBatchTokens,
            MaxSteps = steps ?? o.MaxSteps,
            // Steps given count instead of the recipe's epochs.
            Epochs = steps is null ? epochs ?? o.Epochs : null,
            LearningRate = lr ?? o.LearningRate,
            MinLearningRate = r.GetValue<float?>("--min-lr") ?? (lr is float given ? given * d.MinLearningRateFraction : o.MinLearningRate),
            WarmupSteps = r.GetValue<int?>("--warmup") ?? o.WarmupSteps,
            Beta1 = r.GetValue<float?>("--beta1") ?? o.Beta1,
            Beta2 = r.GetValue<float?>("--beta2") ?? o.Beta2,
            WeightDecay = r.GetValue<float?>("--weight-decay") ?? o.WeightDecay,
            GradientClip = r.GetValue<float?>("--grad-clip") ?? o.GradientClip,
            Seed = r.GetValue<ulong>("--seed"),
            ValidationInterval = r.GetValue<int?>("--val-every") ?? o.ValidationInterval,
            ValidationBatches = r.GetValue<int?>("--val-steps") ?? o.ValidationBatches,
            FinalValidationBatches = r.GetValue<int?>("--final-val-steps") ?? (r.GetValue<int?>("--val-steps") is null ? o.FinalValidationBatches : null),
            SampleInterval = r.GetValue<int?>("--sample-every") ?? o.SampleInterval,
            SampleTokens = r.GetValue<int>("--sample-tokens"),
            CheckpointInterval = r.GetValue<int?>("--checkpoint-every") ?? o.CheckpointInterval,
            Resume = r.GetValue<bool>("--resume"),
            BatchOrder = r.GetValue<string?>("--batches") switch
            {
                "random" => BatchOrder.RandomWindows,
                "sequential" => BatchOrder.Sequential,
                _ => o.BatchOrder,
            },
            HellaSwagPath = r.GetValue<FileInfo?>("--hellaswag")?.FullName,
            HellaSwagInterval = r.GetValue<int?>("--hellaswag-every") ?? o.HellaSwagInterval,
            HellaSwagLimit = r.GetValue<int>("--hellaswag-limit"),
            Parallelism = r.GetValue<ThreadParallelism>("--parallel"),
            ZeroStage = r.GetValue<int>("--zero"),
            CollectiveChunkFloats = commChunk > 0 ? commChunk : throw new SharpGptException("--comm-chunk", $"must be positive, got {commChunk}."),
        };
    }

    private static GptModel CreateModel(ParseResult r, Option<FileInfo?> initFrom, Option<string?> preset, Option<int?> layers, Option<int?> heads, Option<int?> embd,
        Option<int?> blockSize, TrainingRecipe recipe, int t, TrainingData data, GptModelOptions options, bool initialize)
    {
        var tokenizer = data.Tokenizer;
        if (r.GetValue(initFrom) is { } from)
        {
            if (r.GetValue(preset) is not null || r.GetValue(layers) is not null || r.GetValue(heads) is not null || r.GetValue(embd) is not null)
            {
                throw new SharpGptException("--init-from", "it takes the model's shape from the checkpoint", "drop --preset/--layers/--heads/--embd.");
            }

            var loaded = GptModel.Open(from.FullName, options);
            if (loaded.Config.VocabSize < tokenizer.VocabSize)
            {
                loaded.Dispose();
                throw new SharpGptException(from.FullName, $"the model's vocabulary ({loaded.Config.VocabSize}) is smaller than the data's ({tokenizer.VocabSize}).");
            }

            return loaded;
        }

        int block = r.GetValue(blockSize) ?? Math.Max(t, recipe.Model?.MaxSeqLen ?? 1024);
        var config = r.GetValue(preset) is { } name ? CommonOptions.Preset(name)
            : recipe.Model ?? (tokenizer.VocabSize < 1000 ? new GptConfig(block, tokenizer.VocabSize, 4, 4, 128) : GptConfig.Gpt2Small);
        config = config with
        {
            VocabSize = tokenizer.VocabSize,
            MaxSeqLen = block,
            NumLayers = r.GetValue(layers) ?? config.NumLayers,
            NumHeads = r.GetValue(heads) ?? config.NumHeads,
            Channels = r.GetValue(embd) ?? config.Channels,
        };
        try
        {
            return GptModel.CreateModel(config, tokenizer, options, initialize);
        }
        catch (ArgumentException e) when (e.ParamName == "config")
        {
            throw new SharpGptException("model options", e.Message.Replace(" (Parameter 'config')", "", StringComparison.Ordinal), innerException: e);
        }
    }

    private static TrainingResult RunWithProgress(ConsoleTrainingProgress progress, Func<IProgress<TrainingEvent>, TrainingResult> train)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            return train(progress);
        }

        return AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                progress.Progress = ctx.AddTask("training");
                return train(progress);
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

    private static int Finish(TrainingResult result, GptModel model, TrainingOptions options, int sampleTokens, string resumeCommand)
    {
        string metrics = Path.Combine(options.OutputDirectory!, "metrics.jsonl");
        string plot = Path.Combine(options.OutputDirectory!, "loss.png");
        if (File.Exists(metrics))
        {
            LossPlot.Save(metrics, plot);
        }

        if (result.Diverged)
        {
            return 3;
        }

        if (result.Stopped)
        {
            Console.WriteLine($"stopped after {result.Steps} step(s) of this run; checkpoint: {result.LastCheckpoint}");
            Console.WriteLine($"resume with: {resumeCommand}");
            return StopSignals.ExitCode;
        }

        if (result.FinalValidationLoss is float val)
        {
            string scope = result.FinalValidationWholeSplit ? "whole split" : $"{result.FinalValidationBatches} batches";
            Console.WriteLine(FormattableString.Invariant($"final validation loss ({scope}): {val:F4}"));
        }

        Console.WriteLine(FormattableString.Invariant($"trained {result.Steps} steps in {result.TrainingTime.TotalSeconds:F1} s"));
        if (sampleTokens > 0 && model.Tokenizer is not null)
        {
            Console.WriteLine("sample:");
            Console.WriteLine(model.Generate("", new GenerationOptions { MaxTokens = sampleTokens, Seed = options.Seed, StopAtEndOfText = false }).Text);
        }

        Console.WriteLine($"checkpoint: {result.LastCheckpoint ?? "(none)"}");
        Console.WriteLine($"metrics:    {metrics}");
        Console.WriteLine($"plot:       {plot}");
        return 0;
    }
}
