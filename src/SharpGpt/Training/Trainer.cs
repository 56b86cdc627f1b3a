using SharpGpt.Data;
using SharpGpt.Distributed;
using SharpGpt.Eval;
using SharpGpt.Formats;
using SharpGpt.Model;

namespace SharpGpt.Training;

/// <summary>How a run ended.</summary>
internal sealed record TrainingOutcome(int Steps, float? FinalValLoss, bool Diverged, string? LastCheckpoint, double TrainingSeconds)
{
    /// <summary>The step the model is at: the last one completed.</summary>
    public int LastStep { get; init; }

    /// <summary>The batches the final validation read (0 when there was none).</summary>
    public long FinalValBatches { get; init; }

    /// <summary>Whether the final validation read the whole split.</summary>
    public bool FinalValWholeSplit { get; init; }

    /// <summary>Whether a stop request ended the run early, after a step and its checkpoint.</summary>
    public bool Interrupted { get; init; }
}

/// <summary>
/// The GPT-2 recipe as a loop: for each step, accumulate micro-batches, normalise by the step's
/// target tokens, clip, AdamW with warm-up + cosine; validate, sample and checkpoint on schedule.
/// A stop request (Ctrl-C) ends the run after the optimizer step in progress, with a checkpoint of it.
/// </summary>
internal sealed class Trainer(GptNetwork model, TrainingSettings options, ICollectives collectives, ITrainingObserver observer,
    Func<Rng, string>? sampler = null)
{
    private readonly string _tokenizerJson = TokenizerFile.Of(options.Data.Tokenizer).ToJson();

    private bool IsMain => collectives.Rank == 0;

    /// <param name="stop">A stop request: the run finishes the optimizer step in progress (cutting short a
    /// validation or HellaSwag evaluation), writes a checkpoint of it and returns, <see cref="TrainingOutcome.Interrupted"/>.
    /// Ranks stop together, at the first step after which any of them was asked.</param>
    public TrainingOutcome Run(CancellationToken stop = default)
    {
        var o = options;
        var plan = BatchPlan.Create(o.TotalBatchTokens, o.MicroBatch, o.SeqLen, collectives.WorldSize);
        if (o.SeqLen > model.Config.MaxSeqLen)
        {
            throw new SharpGptException("SequenceLength", $"{o.SeqLen} exceeds the model's block size {model.Config.MaxSeqLen}", "use a shorter SequenceLength, or a model with a larger block size.");
        }

        if (o.OutDir is not null)
        {
            Directory.CreateDirectory(o.OutDir);
        }

        if (IsMain && o.OutDir is not null)
        {
            foreach (var (path, bytes, pid) in AtomicFile.RemoveStaleTemporaryFiles(o.OutDir))
            {
                observer.OnMessage($"removed {path} ({BatchPlan.Format(bytes)}), a file that process {pid} was writing when it ended");
            }
        }

        var train = new TokenDataLoader(o.Data.Train, o.MicroBatch, o.SeqLen, collectives.Rank, collectives.WorldSize, o.RandomWindows ? o.Seed : null);
        train.ValidateTokens(model.Config.VocabSize);
        TokenDataLoader? val = o.Data.Validation is { } validation
            ? new TokenDataLoader(validation, o.MicroBatch, o.SeqLen, collectives.Rank, collectives.WorldSize)
            : null;
        val?.ValidateTokens(model.Config.VocabSize);
        foreach (var (split, loader) in new[] { ("train", train), ("val", val) })
        {
            if (loader is { Packed: true })
            {
                observer.OnMessage(PackingNote(split, loader));
            }
        }

        var hellaSwag = o.HellaSwagPath is null ? null : CreateHellaSwag(o.HellaSwagPath, o.HellaSwagLimit);

        using var optimizer = CreateOptimizer();
        var stepper = new GradientAccumulationStep(model, optimizer, collectives);
        var schedule = new LearningRateSchedule(o.LearningRate, o.EffectiveMinLearningRate, o.WarmupSteps, o.MaxSteps);
        var rng = new Rng(o.Seed);
        var runInfo = new TrainingRunInfo(o.MicroBatch, o.SeqLen, plan.TotalBatchTokens, collectives.WorldSize, o.Data.Name, o.Seed)
        {
            RandomWindows = o.RandomWindows,
            Precision = o.Precision,
            Device = o.Device,
        };
        model.Precision = o.Precision;

        int firstStep = 0;
        string? resumedFrom = null;
        if (o.Resume)
        {
            resumedFrom = o.OutDir is null ? throw new SharpGptException("Resume", "resuming needs the output folder of the run to resume", "give it in OutputDirectory.")
                : TrainingCheckpoint.FindLatest(o.OutDir);
            if (resumedFrom is null)
            {
                observer.OnMessage($"Resume: no checkpoint in {o.OutDir}; starting from scratch.");
            }
            else
            {
                var meta = TrainingCheckpoint.ReadMetadata(resumedFrom);
                var differences = meta.Run is null ? [] : meta.Run.Differences(runInfo).ToList();
                if (differences.Count > 0)
                {
                    throw new SharpGptException(resumedFrom, $"cannot resume from it: {string.Join("; ", differences)}", "resume with the checkpoint's settings, or train into another OutputDirectory.");
                }

                if (meta.Run?.PrecisionChange(runInfo) is { } change)
                {
                    observer.OnMessage($"Resuming from {resumedFrom}: {change}.");
                }

                if (meta.Run?.RankSplitChange(runInfo) is { } split)
                {
                    observer.OnMessage($"Resuming from {resumedFrom}: {split}.");
                }

                if (meta.Run?.DeviceChange(runInfo) is { } device)
                {
                    observer.OnMessage($"Resuming from {resumedFrom}: {device}.");
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
            ulong checksum = ReplicaCheck.RequireIdenticalWeights(model, collectives, resumedFrom is null ? "at the start" : $"after resuming from {resumedFrom}");
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

        using var metrics = IsMain && o.OutDir is not null ? new MetricsLog(Path.Combine(o.OutDir, MetricsLog.FileName), resumedFrom is null ? null : firstStep) : null;
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
                return Outcome(s - firstStep, s, finalVal, lastCheckpoint, trainingSeconds) with { Diverged = true };
            }

            observer.OnStep(step, result, ms);
            var record = new MetricsRecord(step, result.Loss, result.LearningRate, result.GradNorm, (long)step * plan.TotalBatchTokens, Math.Round(ms, 2))
            {
                TrainedTokens = result.TargetTokens,
            };

            bool last = step == o.MaxSteps;
            if (val is not null && o.ValEvery > 0 && (step % o.ValEvery == 0 || last)
                && MeasureValidation(val, last ? o.FinalValSteps ?? o.ValSteps : o.ValSteps, step, stop) is { } measured)
            {
                observer.OnValidation(step, measured.Loss, measured.WholeSplit);
                record = record with { ValLoss = measured.Loss };
                if (last)
                {
                    finalVal = measured;
                }
            }

            if (hellaSwag is not null && ((o.HellaSwagEvery > 0 && step % o.HellaSwagEvery == 0) || last)
                && MeasureHellaSwag(hellaSwag, step, stop) is var (accuracyNorm, accuracy, count))
            {
                observer.OnHellaSwag(step, accuracyNorm, accuracy, count);
                record = record with { HellaSwagAccuracy = (float)accuracyNorm };
            }

            metrics?.Append(record);

            if (sampler is not null && IsMain && o.SampleEvery > 0 && (step % o.SampleEvery == 0) && !stop.IsCancellationRequested)
            {
                observer.OnSample(step, sampler(rng));
            }

            bool written = false;
            if (o.OutDir is not null && o.CheckpointEvery > 0 && (step % o.CheckpointEvery == 0 || last))
            {
                lastCheckpoint = SaveCheckpoint(step, optimizer, train, rng, runInfo, lastCheckpoint);
                written = true;
            }

            if (StopRequested(stop))
            {
                if (!written && o.OutDir is not null)
                {
                    lastCheckpoint = SaveCheckpoint(step, optimizer, train, rng, runInfo, lastCheckpoint);
                }

                return Outcome(step - firstStep, step, finalVal, lastCheckpoint, trainingSeconds) with { Interrupted = true };
            }
        }

        return Outcome(Math.Max(0, o.MaxSteps - firstStep), Math.Max(o.MaxSteps, firstStep), finalVal, lastCheckpoint, trainingSeconds);
    }

    /// <summary>How a split of fine-tuning data fills its rows, and how many examples were cut, said when training starts.</summary>
    internal static string PackingNote(string split, TokenDataLoader loader)
    {
        string cut = loader.TruncatedExamples == 0 ? "none is longer than a row"
            : $"{loader.TruncatedExamples:N0} longer than a row {(loader.TruncatedExamples == 1 ? "is" : "are")} truncated to its first {loader.SeqLen + 1} tokens";
        return $"{split}: {loader.Examples:N0} fine-tuning example(s) packed whole into {loader.Rows:N0} row(s) of T + 1 = {loader.SeqLen + 1} tokens, read in {loader.StepsPerEpoch:N0} micro-batch(es) of {(long)loader.WorldSize * loader.BatchSize} rows a pass; {cut}";
    }

    private static TrainingOutcome Outcome(int steps, int lastStep, Validation? finalVal, string? lastCheckpoint, double trainingSeconds) =>
        new(steps, finalVal?.Loss, Diverged: false, lastCheckpoint, trainingSeconds)
        {
            LastStep = lastStep,
            FinalValBatches = finalVal?.Batches ?? 0,
            FinalValWholeSplit = finalVal?.WholeSplit ?? false,
        };

    // Every rank must leave the loop after the same step: a request any rank has seen counts for all.
    private bool StopRequested(CancellationToken stop)
    {
        if (collectives.WorldSize == 1)
        {
            return stop.IsCancellationRequested;
        }

        Span<double> requests = [stop.IsCancellationRequested ? 1 : 0];
        collectives.AllReduceSum(requests);
        return requests[0] > 0;
    }

    private IDistributedOptimizer CreateOptimizer() =>
        DistributedOptimizer.Create(model, options.Adam, collectives, options.ZeroStage, options.CollectiveChunkFloats);

    /// <returns>Null when a stop request cut the validation short on any rank.</returns>
    private Validation? MeasureValidation(TokenDataLoader val, int steps, int step, CancellationToken stop)
    {
        long batches = ValidationLoss.Batches(val, steps);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var (sum, count, read) = ValidationLoss.Measure(model, val, steps,
            done => observer.OnEvaluationProgress(step, "validation", done, batches, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds), stop);
        Span<double> totals = [sum, count, read < batches ? 1 : 0];
        collectives.AllReduceSum(totals);
        if (totals[2] > 0)
        {
            return null;
        }

        float loss = totals[1] == 0 ? float.NaN : (float)(totals[0] / totals[1]);
        return new Validation(loss, batches, batches == Math.Max(1, val.StepsPerEpoch));
    }

    private HellaSwagEvaluator CreateHellaSwag(string path, int limit) =>
        new(model, options.Data.Tokenizer, HellaSwagExample.Read(path, limit));

    // Each rank scores every WorldSize-th example; the counts are summed across ranks. Null when a stop
    // request cut the evaluation short on any rank.
    private (double AccuracyNorm, double Accuracy, int Count)? MeasureHellaSwag(HellaSwagEvaluator evaluator, int step, CancellationToken stop)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = evaluator.Evaluate(
            (done, total) => observer.OnEvaluationProgress(step, "HellaSwag", done, total, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds),
            collectives.Rank, collectives.WorldSize, stop);
        int expected = (evaluator.Count - collectives.Rank + collectives.WorldSize - 1) / collectives.WorldSize;
        Span<double> totals = [result.CorrectNorm, result.Correct, result.Count, result.Count < expected ? 1 : 0];
        collectives.AllReduceSum(totals);
        return totals[3] > 0 ? null : (totals[0] / totals[2], totals[1] / totals[2], (int)totals[2]);
    }

    /// <param name="lastGood">The newest checkpoint so far, which a failed write names.</param>
    private string SaveCheckpoint(int step, IDistributedOptimizer optimizer, TokenDataLoader train, Rng rng, TrainingRunInfo runInfo, string? lastGood)
    {
        if (collectives.WorldSize > 1)
        {
            // Rank 0 writes rank 0's weights; they must be everyone's.
            ReplicaCheck.RequireIdenticalWeights(model, collectives, $"at step {step}");
        }

        string path = TrainingCheckpoint.PathFor(options.OutDir!, step);
        if (IsMain)
        {
            var state = train.State;
            var meta = new CheckpointMetadata(model.Config, step, optimizer.Step, state.ShardIndex, state.Position, rng.State, runInfo, _tokenizerJson, HasOptimizerState: true)
            {
                ChatTemplate = options.Data.ChatTemplate?.Name,
            };
            try
            {
                TrainingCheckpoint.Save(path, model, optimizer, meta);
            }
            catch (SharpGptException e)
            {
                throw new SharpGptException(e.Subject, $"the checkpoint of step {step} could not be written: {e.Problem}",
                    lastGood is null ? "no earlier checkpoint was written; free space and start again" : $"the last good checkpoint is {lastGood}; free space and continue from it with Resume", e);
            }

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

        var all = Directory.GetFiles(options.OutDir!, "ckpt_*" + TrainingCheckpoint.Extension).OrderBy(f => f, StringComparer.Ordinal).ToList();
        foreach (string old in all.Take(Math.Max(0, all.Count - options.KeepCheckpoints)))
        {
            File.Delete(old);
        }
    }
}
