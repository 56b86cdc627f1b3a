using SharpGpt.Data;
using SharpGpt.Distributed;
using SharpGpt.Eval;
using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>How a run ended.</summary>
public sealed record TrainingOutcome(int Steps, float? FinalValLoss, bool Diverged, string? LastCheckpoint, double TrainingSeconds)
{
    /// <summary>The batches the final validation read (0 when there was none).</summary>
    public long FinalValBatches { get; init; }

    /// <summary>Whether the final validation read the whole split.</summary>
    public bool FinalValWholeSplit { get; init; }
}

/// <summary>
/// The GPT-2 recipe as a loop: for each step, accumulate micro-batches, normalise by the step's
/// target tokens, clip, AdamW with warm-up + cosine; validate, sample and checkpoint on schedule.
/// </summary>
public sealed class Trainer(GptModel model, TrainingOptions options, ICollectives collectives, ITrainingObserver observer,
    Func<Rng, string>? sampler = null, string? tokenizerJson = null)
{
    private bool IsMain => collectives.Rank == 0;

    public TrainingOutcome Run()
    {
        var o = options;
        var plan = BatchPlan.Create(o.TotalBatchTokens, o.MicroBatch, o.SeqLen, collectives.WorldSize);
        if (o.SeqLen > model.Config.MaxSeqLen)
        {
            throw new UserErrorException("--seq-len", $"{o.SeqLen} exceeds the model's block size {model.Config.MaxSeqLen}", "use a shorter --seq-len, or a model with a larger --block-size.");
        }

        Directory.CreateDirectory(o.OutDir);
        var train = TokenDataLoader.ForSplit(o.DataDir, "train", o.MicroBatch, o.SeqLen, collectives.Rank, collectives.WorldSize, o.RandomWindows ? o.Seed : null);
        train.ValidateTokens(model.Config.VocabSize);
        TokenDataLoader? val = TokenDataLoader.FindShards(o.DataDir, "val").Length > 0
            ? TokenDataLoader.ForSplit(o.DataDir, "val", o.MicroBatch, o.SeqLen, collectives.Rank, collectives.WorldSize)
            : null;
        val?.ValidateTokens(model.Config.VocabSize);
        var hellaSwag = o.HellaSwagPath is null ? null : CreateHellaSwag(o.HellaSwagPath, o.HellaSwagLimit);

        using var optimizer = CreateOptimizer();
        var stepper = new GradientAccumulationStep(model, optimizer, collectives);
        var schedule = new LearningRateSchedule(o.LearningRate, o.EffectiveMinLearningRate, o.WarmupSteps, o.MaxSteps);
        var rng = new Rng(o.Seed);
        var runInfo = new TrainingRunInfo(o.MicroBatch, o.SeqLen, plan.TotalBatchTokens, collectives.WorldSize, o.DataDir, o.Seed) { RandomWindows = o.RandomWindows, Precision = o.Precision };
        model.Precision = o.Precision;

        int firstStep = 0;
        string? resumedFrom = null;
        if (o.Resume)
        {
            resumedFrom = TrainingCheckpoint.FindLatest(o.OutDir);
            if (resumedFrom is null)
            {
                observer.OnMessage($"--resume: no checkpoint in {o.OutDir}; starting from scratch.");
            }
            else
            {
                var meta = TrainingCheckpoint.ReadMetadata(resumedFrom);
                var differences = meta.Run is null ? [] : meta.Run.Differences(runInfo).ToList();
                if (differences.Count > 0)
                {
                    throw new UserErrorException(resumedFrom, $"cannot resume from it: {string.Join("; ", differences)}", "resume with the checkpoint's settings, or train into another --out.");
                }

                if (meta.Run?.PrecisionChange(runInfo) is { } change)
                {
                    observer.OnMessage($"Resuming from {resumedFrom}: {change}.");
                }

                if (meta.Run?.RankSplitChange(runInfo) is { } split)
                {
                    observer.OnMessage($"Resuming from {resumedFrom}: {split}.");
                }

                meta = TrainingCheckpoint.Restore(resumedFrom, model, optimizer);
                train.Restore(new LoaderState(meta.LoaderShard, meta.LoaderPosition));
                rng.State = meta.RngState;
                firstStep = meta.Step;
            }
        }

        if (collectives.WorldSize > 1)
        {
            // Every rank must start from the same weights: the same seed, or the same checkpoint.
            ulong checksum = ReplicaCheck.RequireIdenticalWeights(model.Parameters, collectives, resumedFrom is null ? "at the start" : $"after resuming from {resumedFrom}");
            observer.OnMessage($"{collectives.WorldSize} ranks start from identical weights (checksum {checksum:x16})");
        }

        if (o.ZeroStage == 1)
        {
            long full = 2L * sizeof(float) * model.Layout.Total;
            observer.OnMessage($"ZeRO-1: AdamW moments sharded over {collectives.WorldSize} rank(s): {BatchPlan.Format(optimizer.MomentBytes)} on rank {collectives.Rank} instead of {BatchPlan.Format(full)}, {BatchPlan.Format(full - optimizer.MomentBytes)} saved per rank");
        }

        long parameters = model.Layout.UnpaddedTotal;
        double flopsPerStep = ((6.0 * parameters) + (12.0 * model.Config.NumLayers * model.Config.Channels * o.SeqLen)) * plan.TotalBatchTokens;
        observer.OnStart(new TrainingStartInfo(plan, firstStep, o.MaxSteps, parameters, flopsPerStep, resumedFrom));

        using var metrics = IsMain ? new MetricsLog(Path.Combine(o.OutDir, "metrics.jsonl"), resumedFrom is null ? null : firstStep) : null;
        Func<int, (int[], int[])> nextMicroBatch = _ =>
        {
            train.NextBatch();
            return (train.Inputs, train.Targets);
        };

        string? lastCheckpoint = resumedFrom;
        Validation? finalVal = null;
        double trainingSeconds = 0;
        for (int s = firstStep; s < o.MaxSteps; s++)
        {
            int step = s + 1;
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            var result = stepper.Run(plan.AccumulationSteps, o.MicroBatch, o.SeqLen, nextMicroBatch, schedule.At(s), o.GradClip);
            double ms = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            trainingSeconds += ms / 1000;
            if (!float.IsFinite(result.Loss) || !double.IsFinite(result.GradNorm))
            {
                string kept = lastCheckpoint is null ? "no checkpoint was written yet" : $"the last good checkpoint is {lastCheckpoint}";
                observer.OnMessage($"Stopping: the loss became {result.Loss} (grad norm {result.GradNorm}) at step {step}; the weights were not updated and {kept}.");
                return Outcome(s, finalVal, diverged: true, lastCheckpoint, trainingSeconds);
            }

            observer.OnStep(step, result, ms);
            var record = new MetricsRecord(step, result.Loss, result.LearningRate, result.GradNorm, (long)step * plan.TotalBatchTokens, Math.Round(ms, 2));

            bool last = step == o.MaxSteps;
            if (val is not null && o.ValEvery > 0 && (step % o.ValEvery == 0 || last))
            {
                var measured = MeasureValidation(val, last ? o.FinalValSteps ?? o.ValSteps : o.ValSteps, step);
                observer.OnValidation(step, measured.Loss, measured.WholeSplit);
                record = record with { ValLoss = measured.Loss };
                if (last)
                {
                    finalVal = measured;
                }
            }

            if (hellaSwag is not null && ((o.HellaSwagEvery > 0 && step % o.HellaSwagEvery == 0) || last))
            {
                var (accuracyNorm, accuracy, count) = MeasureHellaSwag(hellaSwag, step);
                observer.OnHellaSwag(step, accuracyNorm, accuracy, count);
                record = record with { HellaSwagAccuracy = (float)accuracyNorm };
            }

            metrics?.Append(record);

            if (sampler is not null && IsMain && o.SampleEvery > 0 && (step % o.SampleEvery == 0))
            {
                observer.OnSample(step, sampler(rng));
            }

            if (o.CheckpointEvery > 0 && (step % o.CheckpointEvery == 0 || last))
            {
                lastCheckpoint = SaveCheckpoint(step, optimizer, train, rng, runInfo);
            }
        }

        if (IsMain && metrics is not null)
        {
            LossPlot.Save(MetricsLog.Read(metrics.Path), Path.Combine(o.OutDir, "loss.png"));
        }

        return Outcome(o.MaxSteps - firstStep, finalVal, diverged: false, lastCheckpoint, trainingSeconds);
    }

    private static TrainingOutcome Outcome(int steps, Validation? finalVal, bool diverged, string? lastCheckpoint, double trainingSeconds) =>
        new(steps, finalVal?.Loss, diverged, lastCheckpoint, trainingSeconds)
        {
            FinalValBatches = finalVal?.Batches ?? 0,
            FinalValWholeSplit = finalVal?.WholeSplit ?? false,
        };

    private IDistributedOptimizer CreateOptimizer() =>
        DistributedOptimizer.Create(model, options.Adam, collectives, options.ZeroStage, options.CollectiveChunkFloats);

    private Validation MeasureValidation(TokenDataLoader val, int steps, int step)
    {
        long batches = ValidationLoss.Batches(val, steps);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var (sum, count, _) = ValidationLoss.Measure(model, val, steps,
            done => observer.OnEvaluationProgress(step, "validation", done, batches, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds));
        Span<double> totals = [sum, count];
        collectives.AllReduceSum(totals);
        float loss = totals[1] == 0 ? float.NaN : (float)(totals[0] / totals[1]);
        return new Validation(loss, batches, batches == Math.Max(1, val.StepsPerEpoch));
    }

    private HellaSwagEvaluator CreateHellaSwag(string path, int limit)
    {
        if (tokenizerJson is null)
        {
            throw new ArgumentException("HellaSwag during training needs the run's tokenizer, and none was given to the trainer.");
        }

        var tokenizer = TokenizerFactory.FromFile(TokenizerFile.FromJson(tokenizerJson, "the training tokenizer"), "the training tokenizer");
        return new HellaSwagEvaluator(model, tokenizer, HellaSwagExample.Read(path, limit));
    }

    // Each rank scores every WorldSize-th example; the counts are summed across ranks.
    private (double AccuracyNorm, double Accuracy, int Count) MeasureHellaSwag(HellaSwagEvaluator evaluator, int step)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = evaluator.Evaluate(
            (done, total) => observer.OnEvaluationProgress(step, "HellaSwag", done, total, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds),
            collectives.Rank, collectives.WorldSize);
        Span<double> totals = [result.CorrectNorm, result.Correct, result.Count];
        collectives.AllReduceSum(totals);
        return (totals[0] / totals[2], totals[1] / totals[2], (int)totals[2]);
    }

    private string SaveCheckpoint(int step, IDistributedOptimizer optimizer, TokenDataLoader train, Rng rng, TrainingRunInfo runInfo)
    {
        if (collectives.WorldSize > 1)
        {
            // Rank 0 writes rank 0's weights; they must be everyone's.
            ReplicaCheck.RequireIdenticalWeights(model.Parameters, collectives, $"at step {step}");
        }

        string path = TrainingCheckpoint.PathFor(options.OutDir, step);
        if (IsMain)
        {
            var state = train.State;
            var meta = new CheckpointMetadata(model.Config, step, optimizer.Step, state.ShardIndex, state.Position, rng.State, runInfo, tokenizerJson, HasOptimizerState: true);
            TrainingCheckpoint.Save(path, model, optimizer, meta);
            observer.OnCheckpoint(step, path);
            Prune();
        }
        else
        {
            // ZeRO-1 gathers the moments to rank 0 while it writes them.
            optimizer.WriteMoments(null);
        }

        collectives.Barrier();
        return path;
    }

    /// <summary>One validation: the loss, the batches each rank read, and whether they were the whole split.</summary>
    private sealed record Validation(float Loss, long Batches, bool WholeSplit);

    private void Prune()
    {
        if (options.KeepCheckpoints <= 0)
        {
            return;
        }

        var all = Directory.GetFiles(options.OutDir, "ckpt_*" + TrainingCheckpoint.Extension).OrderBy(f => f, StringComparer.Ordinal).ToList();
        foreach (string old in all.Take(Math.Max(0, all.Count - options.KeepCheckpoints)))
        {
            File.Delete(old);
        }
    }
}
