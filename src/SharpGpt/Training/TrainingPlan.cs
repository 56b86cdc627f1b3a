using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpGpt.Data;
using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>
/// Everything a run will do, resolved before it starts (<c>train --dry-run</c>): the model, the batch and its
/// memory, the tokens it reads against the data it has, the schedule, the evaluations, and with a
/// <see cref="MicroStepTiming"/> an estimate of its time on this machine.
/// </summary>
internal sealed record TrainingPlan
{
    public required TrainingRecipe Recipe { get; init; }

    public required GptConfig Config { get; init; }

    /// <summary>Parameters without the vocabulary's padding, as GPT-2's 124M counts them.</summary>
    public required long Parameters { get; init; }

    public required BatchPlan Batch { get; init; }

    public required TrainingSettings Options { get; init; }

    /// <summary>Parameters, gradients and AdamW's moments.</summary>
    public required long StateBytes { get; init; }

    /// <summary>Activations of one micro-batch.</summary>
    public required long ActivationBytes { get; init; }

    /// <summary>The budget --micro-batch auto fitted the micro-batch to; null when the micro-batch was given.</summary>
    public long? MemoryBudget { get; init; }

    public required int Threads { get; init; }

    public required long TrainTokens { get; init; }

    public required long ValTokens { get; init; }

    /// <summary>Batches in one pass over the validation split (what a whole-split validation runs); 0 without one.</summary>
    public required long ValBatchesPerPass { get; init; }

    /// <summary>Tokens one HellaSwag scoring runs through the model; 0 without --hellaswag.</summary>
    public long HellaSwagTokensPerPass { get; init; }

    public IReadOnlyList<TrainingSetting> Settings { get; init; } = [];

    public long TokensTotal => (long)Options.MaxSteps * Batch.TotalBatchTokens;

    /// <summary>How many times the run reads the training split.</summary>
    public double Passes => TrainTokens > 0 ? (double)TokensTotal / TrainTokens : double.PositiveInfinity;

    /// <summary>Forward passes of validation over the run, as <see cref="Trainer"/> schedules them.</summary>
    public long ValidationBatches
    {
        get
        {
            if (ValBatchesPerPass == 0)
            {
                return 0;
            }

            // As the trainer does: every ValEvery steps and after the last (with FinalValSteps), never with ValEvery 0.
            var o = Options;
            if (o.ValEvery <= 0)
            {
                return 0;
            }

            long Batches(int steps) => steps <= 0 ? ValBatchesPerPass : Math.Min(steps, ValBatchesPerPass);
            long periodic = o.MaxSteps / o.ValEvery;
            bool lastIsPeriodic = o.MaxSteps % o.ValEvery == 0;
            return ((periodic - (lastIsPeriodic ? 1 : 0)) * Batches(o.ValSteps)) + Batches(o.FinalValSteps ?? o.ValSteps);
        }
    }

    /// <summary>HellaSwag scorings over the run: every --hellaswag-every steps and after the last.</summary>
    public long HellaSwagEvaluations => Options.HellaSwagPath is null ? 0
        : Options.HellaSwagEvery <= 0 ? 1
        : (Options.MaxSteps / Options.HellaSwagEvery) + (Options.MaxSteps % Options.HellaSwagEvery == 0 ? 0 : 1);

    /// <summary>Resolves the plan; throws, as the run would, when the batch does not divide or the data cannot feed it.</summary>
    public static TrainingPlan Create(TrainingRecipe recipe, GptConfig config, IGptKernels kernels, TrainingSettings options, int worldSize, int threads,
        long? memoryBudget, IReadOnlyList<TrainingSetting> settings, long hellaSwagTokensPerPass = 0)
    {
        var batch = BatchPlan.Create(options.TotalBatchTokens, options.MicroBatch, options.SeqLen, worldSize);
        if (options.SeqLen > config.MaxSeqLen)
        {
            throw new SharpGptException("SequenceLength", $"{options.SeqLen} exceeds the model's block size {config.MaxSeqLen}.");
        }

        // The loaders check the shards as the run would (a shard too small for one step is an error).
        var data = options.Data;
        _ = new TokenDataLoader(data.Train, options.MicroBatch, options.SeqLen, 0, worldSize);
        var valBatches = data.Validation is { } validation ? new TokenDataLoader(validation, options.MicroBatch, options.SeqLen, 0, worldSize).StepsPerEpoch : 0;
        return new TrainingPlan
        {
            Recipe = recipe,
            Config = config,
            Parameters = new ParameterLayout(config).UnpaddedTotal,
            Batch = batch,
            Options = options,
            StateBytes = BatchPlan.StateBytes(config, options.Precision),
            ActivationBytes = Activations.BytesFor(config, kernels, options.MicroBatch, options.SeqLen, options.Precision),
            MemoryBudget = memoryBudget,
            Threads = threads,
            TrainTokens = data.TrainTokenCount,
            ValTokens = data.ValidationTokenCount,
            ValBatchesPerPass = valBatches,
            HellaSwagTokensPerPass = hellaSwagTokensPerPass,
            Settings = settings,
        };
    }

    /// <summary>The run's time from a timing of its micro-steps: training, validation and HellaSwag, in seconds.</summary>
    public RunEstimate Estimate(MicroStepTiming timing)
    {
        var o = Options;
        double train = (double)o.MaxSteps * Batch.AccumulationSteps * o.MicroBatch * timing.SecondsPerSequence;
        double val = (double)ValidationBatches * o.MicroBatch * o.SeqLen * timing.ForwardSecondsPerToken;
        double hellaSwag = (double)HellaSwagEvaluations * HellaSwagTokensPerPass / Batch.WorldSize * timing.ForwardSecondsPerToken;
        return new RunEstimate(train, val, hellaSwag);
    }

    /// <summary>The plan for a person, a line per topic.</summary>
    public IEnumerable<string> Describe()
    {
        var o = Options;
        var c = Config;
        yield return Recipe.IsNamed ? $"recipe      {Recipe.Name}: {Recipe.Source}" : $"recipe      none ({Recipe.Source})";
        yield return Invariant($"model       {c.NumLayers} layers, {c.NumHeads} heads, {c.Channels} dims, block {c.MaxSeqLen}, vocab {c.VocabSize}: {Parameters:N0} parameters");
        yield return Invariant($"batch       B={Batch.MicroBatch} x T={Batch.SeqLen} x {Batch.WorldSize} rank(s) x {Batch.AccumulationSteps} accumulation step(s) = {Batch.TotalBatchTokens:N0} tokens/step");
        yield return $"memory      {BatchPlan.Format(StateBytes + ActivationBytes)} per rank: parameters, gradients and AdamW {BatchPlan.Format(StateBytes)}, activations {BatchPlan.Format(ActivationBytes)}"
            + (MemoryBudget is long budget ? $" (micro-batch auto: the largest that divides the step and fits {BatchPlan.Format(budget)})" : "");
        yield return Invariant($"tokens      {o.MaxSteps:N0} steps x {Batch.TotalBatchTokens:N0} = {TokensTotal:N0} tokens; the train split holds {TrainTokens:N0}: {Passes:F2} pass(es); val split {ValTokens:N0} tokens");
        yield return Invariant($"schedule    lr {F(o.LearningRate)}, linear warm-up over {o.WarmupSteps:N0} steps, cosine decay to {F(o.EffectiveMinLearningRate)} at step {o.MaxSteps:N0}; AdamW betas {F(o.Adam.Beta1)}/{F(o.Adam.Beta2)}, eps {F(o.Adam.Epsilon)}, weight decay {F(o.Adam.WeightDecay)}; gradient clipping at {F(o.GradClip)}");
        string final = o.FinalValSteps is int f && f != o.ValSteps ? f == 0 ? ", the whole split after the last step" : Invariant($", {f} after the last step") : "";
        yield return Invariant($"evaluation  val every {o.ValEvery} steps on {o.ValSteps} batches{final} ({ValidationBatches:N0} batches in all); ")
            + (o.HellaSwagPath is null ? $"HellaSwag every {o.HellaSwagEvery} steps with --hellaswag (not given)" : Invariant($"HellaSwag every {o.HellaSwagEvery} steps ({HellaSwagEvaluations:N0} scorings of {o.HellaSwagPath})"))
            + Invariant($"; a checkpoint every {o.CheckpointEvery:N0} steps");
    }

    /// <summary>The timing and the estimate it gives, for a person.</summary>
    public IEnumerable<string> DescribeEstimate(MicroStepTiming? timing)
    {
        if (timing is null)
        {
            yield return "estimate    not timed (--dry-run-steps 0)";
            yield break;
        }

        var estimate = Estimate(timing);
        var scaled = timing.MicroBatch == Batch.MicroBatch ? "" : Invariant($", scaled to B={Batch.MicroBatch} (one sequence timed: errs long)");
        yield return Invariant($"timing      {timing.TimedSteps} micro-step(s) of B={timing.MicroBatch} x T={timing.SeqLen} on {Threads} thread(s) after a warm-up: {timing.MicroStepSeconds:F3} s each, forward alone {timing.ForwardSeconds:F3} s{scaled}; measured in {timing.MeasuredSeconds:F1} s");
        yield return Invariant($"estimate    {Duration(estimate.TotalSeconds)}: training {Duration(estimate.TrainSeconds)} ({timing.SecondsPerSequence * Batch.MicroBatch * Batch.AccumulationSteps:F1} s/step), validation {Duration(estimate.ValSeconds)}, HellaSwag {Duration(estimate.HellaSwagSeconds)}; optimizer updates and checkpoint writes not included");
    }

    /// <summary>The plan as one line of JSON, the dry run's last line.</summary>
    public string ToJson(MicroStepTiming? timing)
    {
        var o = Options;
        var estimate = timing is null ? null : Estimate(timing);
        var json = new JsonObject
        {
            ["recipe"] = Recipe.IsNamed ? Recipe.Name : null,
            ["layers"] = Config.NumLayers,
            ["heads"] = Config.NumHeads,
            ["embd"] = Config.Channels,
            ["block_size"] = Config.MaxSeqLen,
            ["vocab"] = Config.VocabSize,
            ["parameters"] = Parameters,
            ["seq_len"] = Batch.SeqLen,
            ["total_batch_tokens"] = Batch.TotalBatchTokens,
            ["micro_batch"] = Batch.MicroBatch,
            ["accumulation_steps"] = Batch.AccumulationSteps,
            ["ranks"] = Batch.WorldSize,
            ["max_steps"] = o.MaxSteps,
            ["tokens_total"] = TokensTotal,
            ["train_tokens"] = TrainTokens,
            ["val_tokens"] = ValTokens,
            ["passes"] = Math.Round(Passes, 4),
            ["lr"] = Number(o.LearningRate),
            ["min_lr"] = Number(o.EffectiveMinLearningRate),
            ["warmup"] = o.WarmupSteps,
            ["weight_decay"] = Number(o.Adam.WeightDecay),
            ["grad_clip"] = Number(o.GradClip),
            ["beta1"] = Number(o.Adam.Beta1),
            ["beta2"] = Number(o.Adam.Beta2),
            ["eps"] = Number(o.Adam.Epsilon),
            ["val_every"] = o.ValEvery,
            ["val_steps"] = o.ValSteps,
            ["hellaswag_every"] = o.HellaSwagEvery,
            ["hellaswag"] = o.HellaSwagPath,
            ["checkpoint_every"] = o.CheckpointEvery,
            ["memory_bytes"] = StateBytes + ActivationBytes,
            ["memory_budget_bytes"] = MemoryBudget,
            ["threads"] = Threads,
            ["timed_micro_batch"] = timing?.MicroBatch,
            ["micro_step_seconds"] = timing is null ? null : Math.Round(timing.MicroStepSeconds, 4),
            ["est_train_seconds"] = estimate is null ? null : Math.Round(estimate.TrainSeconds),
            ["est_val_seconds"] = estimate is null ? null : Math.Round(estimate.ValSeconds),
            ["est_hellaswag_seconds"] = estimate is null ? null : Math.Round(estimate.HellaSwagSeconds),
            ["est_seconds"] = estimate is null ? null : Math.Round(estimate.TotalSeconds),
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    // Floats as the decimal a person typed (6e-4f is 0.0006, not 0.000600000028).
    private static double Number(float value) => (double)(decimal)value;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string F(float value) => TrainingSetting.Format(value);

    private static string Duration(double seconds)
    {
        var span = TimeSpan.FromSeconds(seconds);
        return span.TotalDays >= 1 ? Invariant($"{span.TotalDays:F1} days") : span.TotalHours >= 1 ? Invariant($"{span.TotalHours:F1} h") : Invariant($"{seconds:F0} s");
    }
}
