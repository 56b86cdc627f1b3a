using SharpGpt.Distributed;
using SharpGpt.Inference;
using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>
/// A training run as the public API starts it: resolves <see cref="TrainingOptions"/> against the model and the
/// data (sequence length, a micro-batch fitted to memory, steps from epochs), chooses how the threads share the work
/// (split kernels, or thread ranks each with a replica), measures the peak for MFU, runs the <see cref="Trainer"/>
/// and leaves the trained weights in the model.
/// </summary>
internal static class TrainingRun
{
    /// <summary>The micro-batch a step falls back to when it is fitted to memory with no total given.</summary>
    private const int DefaultMicroBatch = 4;

    private const long DefaultMemoryBudget = 8L << 30;

    /// <summary>The run's settings, its plan as reported, and the threads' split; throws naming the option at fault.</summary>
    public static (TrainingSettings Settings, TrainingPlanned Planned, ThreadPlan Threads) Resolve(GptModel model, TrainingData data, TrainingOptions options, int worldSize)
    {
        options.Validate();
        var network = model.Network;
        var config = network.Config;
        if (data.Tokenizer.VocabSize > config.VocabSize)
        {
            throw new SharpGptException(data.Name, $"the data's vocabulary ({data.Tokenizer.VocabSize} tokens, {data.Tokenizer.Name}) is larger than the model's ({config.VocabSize})",
                "train a model made for this tokenizer.");
        }

        int t = options.SequenceLength ?? config.MaxSeqLen;
        if (t > config.MaxSeqLen)
        {
            throw new ArgumentOutOfRangeException(nameof(TrainingOptions.SequenceLength), t, $"SequenceLength {t} exceeds the model's block size {config.MaxSeqLen}.");
        }

        var notes = new List<string>();
        long total = options.TotalBatchTokens;
        BatchPlan plan;
        if (options.MicroBatchSize is int b)
        {
            plan = BatchPlan.Create(total, b, t, worldSize);
        }
        else
        {
            long budget = MemoryBudget(model, options);
            long wanted = total > 0 ? total : (long)DefaultMicroBatch * t;
            var (auto, bytes) = BatchPlan.Auto(config, network.Kernels, wanted, t, worldSize, budget, network.Precision);
            long state = BatchPlan.StateBytes(config, network.Precision);
            notes.Add($"micro-batch auto: B={auto.MicroBatch} x T={t} x {auto.AccumulationSteps} accumulation steps = {auto.TotalBatchTokens:N0} tokens/step; memory {BatchPlan.Format(bytes)} (parameters, gradients and AdamW {BatchPlan.Format(state)}, activations {BatchPlan.Format(bytes - state)}) of {BatchPlan.Format(budget)} per rank");
            plan = auto;
        }

        if (network.Precision == Precision.Bf16)
        {
            notes.Add("precision: bf16 matmuls (bf16 weights and input activations, fp32 sums); fp32 master weights, gradients and AdamW");
        }

        int maxSteps = options.Epochs is double epochs ? StepsFor(epochs, data, plan) : options.MaxSteps;
        var backend = model.Backend;
        // On a GPU the host threads only feed it: one model, one rank.
        var threads = backend.IsGpu ? new ThreadPlan(1, model.Runner.Threads)
            : ThreadPlan.Choose(options.Parallelism, model.Runner.Threads, plan.MicroBatch, worldSize, network.Layout.UnpaddedTotal);
        if (!backend.IsGpu)
        {
            notes.Add(threads.Describe(plan.MicroBatch));
        }

        var settings = new TrainingSettings
        {
            Data = data,
            OutDir = options.OutputDirectory is null ? null : Path.GetFullPath(options.OutputDirectory),
            MicroBatch = plan.MicroBatch,
            SeqLen = t,
            TotalBatchTokens = plan.TotalBatchTokens,
            MaxSteps = maxSteps,
            RandomWindows = options.BatchOrder == BatchOrder.RandomWindows,
            LearningRate = options.LearningRate,
            MinLearningRate = options.EffectiveMinLearningRate,
            WarmupSteps = options.WarmupSteps,
            Adam = new AdamWSettings(options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay),
            GradClip = options.GradientClip,
            Seed = options.Seed,
            ValEvery = options.ValidationInterval,
            ValSteps = options.ValidationBatches,
            FinalValSteps = options.FinalValidationBatches,
            SampleEvery = options.SampleInterval,
            SampleTokens = options.SampleTokens,
            CheckpointEvery = options.CheckpointInterval,
            KeepCheckpoints = options.KeepCheckpoints,
            Resume = options.Resume,
            HellaSwagPath = options.HellaSwagPath is null ? null : Path.GetFullPath(options.HellaSwagPath),
            HellaSwagEvery = options.HellaSwagInterval,
            HellaSwagLimit = options.HellaSwagLimit,
            ZeroStage = options.ZeroStage,
            Precision = network.Precision,
            Device = backend.Kind,
            CollectiveChunkFloats = options.CollectiveChunkFloats,
        };
        var resolved = options with
        {
            SequenceLength = t,
            MicroBatchSize = plan.MicroBatch,
            TotalBatchTokens = plan.TotalBatchTokens,
            MaxSteps = maxSteps,
            MinLearningRate = options.EffectiveMinLearningRate,
        };
        var planned = new TrainingPlanned(resolved, plan.MicroBatch / threads.Ranks, threads.Ranks * worldSize, plan.AccumulationSteps, plan.TotalBatchTokens, notes);
        return (settings, planned, threads);
    }

    /// <summary>The memory a micro-batch fitted to memory plans for: the given budget, else 92% of a GPU's free
    /// memory, else 8 GiB.</summary>
    public static long MemoryBudget(GptModel model, TrainingOptions options) =>
        options.MemoryBudgetBytes ?? (long?)(model.Backend.FreeGpuMemoryBytes() * 0.92) ?? DefaultMemoryBudget;

    /// <summary>Runs the training; rank 0 of <paramref name="collectives"/> reports, the other ranks run silently.</summary>
    public static TrainingResult Execute(GptModel model, TrainingData data, TrainingOptions options, ICollectives collectives,
        IProgress<TrainingEvent>? progress, CancellationToken stop)
    {
        bool main = collectives.Rank == 0;
        var (settings, planned, threads) = Resolve(model, data, options, collectives.WorldSize);
        var network = model.Network;
        // MFU's denominator: the peak of every thread of every rank (none known for a GPU here).
        Span<double> peak = [model.Backend.IsGpu ? 0 : PeakFlops.Measure(model.Runner)];
        collectives.AllReduceSum(peak);
        var reporter = new EventReporter(main ? progress : null, peak[0]);
        reporter.Report(planned);

        TrainingOutcome outcome;
        if (threads.Ranks > 1)
        {
            outcome = RunOnThreadRanks(network, settings with { MicroBatch = settings.MicroBatch / threads.Ranks }, threads, reporter, stop);
        }
        else
        {
            ITrainingObserver observer = main ? reporter : new SilentObserver();
            outcome = new Trainer(network, settings, collectives, observer, main ? Samples(network, data.Tokenizer, settings.SampleTokens) : null).Run(stop);
        }

        model.AdoptData(data);
        return new TrainingResult(outcome.Steps, outcome.LastStep, outcome.FinalValLoss, outcome.LastCheckpoint, TimeSpan.FromSeconds(outcome.TrainingSeconds))
        {
            FinalValidationBatches = outcome.FinalValBatches,
            FinalValidationWholeSplit = outcome.FinalValWholeSplit,
            Stopped = outcome.Interrupted,
            Diverged = outcome.Diverged,
        };
    }

    /// <summary>Trains with each thread a data-parallel rank: replicas of the model, each on one thread with its share
    /// of the micro-batch; rank 0 reports and samples, and its weights (every replica's) go back into the model.</summary>
    private static TrainingOutcome RunOnThreadRanks(GptNetwork network, TrainingSettings settings, ThreadPlan plan, EventReporter reporter, CancellationToken stop)
    {
        var runners = new ParallelRunner[plan.Ranks];
        var replicas = new GptNetwork[plan.Ranks];
        try
        {
            for (int rank = 0; rank < plan.Ranks; rank++)
            {
                runners[rank] = new ParallelRunner(plan.ThreadsPerRank);
                replicas[rank] = network.Replicate(new CpuKernels(runners[rank]));
            }

            var outcome = ThreadRanks.Run(plan.Ranks, collectives => collectives.Rank == 0
                ? new Trainer(replicas[0], settings, collectives, reporter, Samples(replicas[0], settings.Data.Tokenizer, settings.SampleTokens)).Run(stop)
                : new Trainer(replicas[collectives.Rank], settings, collectives, new SilentObserver()).Run(stop));
            network.CopyParametersFrom(replicas[0]);
            return outcome;
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

    // Optimizer steps for some passes over the train split: a pass is the loader's steps for the whole step's batch.
    private static int StepsFor(double epochs, TrainingData data, BatchPlan plan)
    {
        long microStepsPerPass = new Data.TokenDataLoader(data.Train, plan.MicroBatch, plan.SeqLen, 0, plan.WorldSize).StepsPerEpoch;
        double steps = Math.Ceiling(epochs * microStepsPerPass / plan.AccumulationSteps);
        return steps is >= 1 and <= int.MaxValue ? (int)steps
            : throw new ArgumentOutOfRangeException(nameof(TrainingOptions.Epochs), epochs, $"Epochs {epochs} of {microStepsPerPass} micro-steps each is {steps} optimizer steps.");
    }

    /// <summary>The samples printed during training: top-k 50 at temperature 1 from the start token, seeded by the run's
    /// random state so a resumed run draws what the uninterrupted one would.</summary>
    private static Func<Rng, string>? Samples(GptNetwork network, GptTokenizer tokenizer, int tokens)
    {
        if (tokens <= 0 || tokenizer.VocabSize > network.Config.VocabSize)
        {
            return null;
        }

        int start = GptModel.StartToken(tokenizer);
        return rng =>
        {
            using var decoder = new KvCacheDecoder(network);
            var sampler = new Sampler(decoder, new SamplingOptions(TopK: 50, Temperature: 1f, Seed: rng.NextUInt64()), tokenizer.VocabSize);
            return tokenizer.Decode(sampler.Generate([start], tokens));
        };
    }
}
