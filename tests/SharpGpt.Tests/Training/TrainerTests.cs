using SharpGpt.Data;
using SharpGpt.Distributed;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Tests.Kernels;
using SharpGpt.Tests.Model;
using SharpGpt.Training;

namespace SharpGpt.Tests.Training;

public sealed class TrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpgpt-train-").FullName;
    private readonly ParallelRunner _runner = new(2);
    private readonly string _data;
    private readonly int _vocab;

    public TrainerTests()
    {
        _data = Path.Combine(_dir, "data");
        string text = string.Concat(Enumerable.Range(0, 400).Select(i => $"line {i}: the quick brown fox {(char)('a' + (i % 26))}.\n"));
        var result = DataPreparer.PrepareText(text, _data, new PrepareOptions { Tokenizer = TokenizerKind.Character });
        _vocab = result.Meta.VocabSize;
    }

    public void Dispose()
    {
        _runner.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private sealed class RecordingObserver : ITrainingObserver
    {
        public List<(int Step, float Loss)> Losses { get; } = [];

        public List<string> Messages { get; } = [];

        public List<float> ValLosses { get; } = [];

        /// <summary>Throws when this step starts reporting, like a crash in the middle of a run.</summary>
        public int CrashAtStep { get; init; } = int.MaxValue;

        /// <summary>Cancelled when this step reports, like Ctrl-C during the step that follows it.</summary>
        public int StopAtStep { get; init; } = int.MaxValue;

        /// <summary>Cancelled when the validation of this step reports its first batch, like Ctrl-C during it.</summary>
        public int StopInValidationOfStep { get; init; } = int.MaxValue;

        public CancellationTokenSource Stop { get; } = new();

        public List<int> Checkpoints { get; } = [];

        public void OnStart(TrainingStartInfo info)
        {
        }

        public void OnStep(int step, StepResult result, double milliseconds)
        {
            if (step == CrashAtStep)
            {
                throw new IOException("simulated crash");
            }

            if (step == StopAtStep)
            {
                Stop.Cancel();
            }

            Losses.Add((step, result.Loss));
        }

        public List<(int Step, string Evaluation, long Done, long Total)> Progress { get; } = [];

        public void OnValidation(int step, float valLoss, bool wholeSplit) => ValLosses.Add(valLoss);

        public void OnEvaluationProgress(int step, string evaluation, long done, long total, double seconds)
        {
            Progress.Add((step, evaluation, done, total));
            if (step == StopInValidationOfStep && evaluation == "validation" && done == 1)
            {
                Stop.Cancel();
            }
        }

        public void OnSample(int step, string text)
        {
        }

        public void OnCheckpoint(int step, string path) => Checkpoints.Add(step);

        public void OnMessage(string message) => Messages.Add(message);
    }

    private GptNetwork NewModel() => TestModels.Create(new GptConfig(16, _vocab, 2, 2, 32), _runner, seed: 5);

    private TrainingSettings Options(string outDir, int maxSteps, bool resume = false) => new()
    {
        Data = TrainingData.FromDirectory(_data),
        OutDir = outDir,
        MicroBatch = 2,
        SeqLen = 16,
        TotalBatchTokens = 2 * 16 * 2,
        MaxSteps = maxSteps,
        LearningRate = 3e-3f,
        WarmupSteps = 2,
        ValEvery = 3,
        ValSteps = 2,
        CheckpointEvery = 4,
        Resume = resume,
    };

    [Theory]
    [InlineData(3, Precision.Fp32)]
    [InlineData(0, Precision.Fp32)]
    [InlineData(3, Precision.Bf16)]
    public void ResumeContinuesBitExactly(int valEvery, Precision precision)
    {
        string straightDir = Path.Combine(_dir, "straight");
        var straight = new RecordingObserver();
        using var a = NewModel();
        new Trainer(a, Options(straightDir, 8) with { ValEvery = valEvery, Precision = precision }, new SingleProcess(), straight).Run();

        string splitDir = Path.Combine(_dir, "split");
        // The first run dies during step 6, after the checkpoint of step 4 and the metrics of step 5.
        var first = new RecordingObserver { CrashAtStep = 6 };
        using (var b = NewModel())
        {
            Assert.Throws<IOException>(() => new Trainer(b, Options(splitDir, 8) with { ValEvery = valEvery, Precision = precision }, new SingleProcess(), first).Run());
        }

        first.Losses.RemoveAt(first.Losses.Count - 1);

        // A fresh model with different weights: everything must come from the checkpoint (in bf16,
        // the bf16 weights too, rounded again from the restored master weights).
        var second = new RecordingObserver();
        using var c = TestModels.Create(new GptConfig(16, _vocab, 2, 2, 32), _runner, seed: 99);
        new Trainer(c, Options(splitDir, 8, resume: true) with { ValEvery = valEvery, Precision = precision }, new SingleProcess(), second).Run();
        Assert.DoesNotContain(second.Messages, m => m.Contains("continues in"));

        Assert.True(straight.Losses.SequenceEqual(first.Losses.Concat(second.Losses)), string.Join(" ", straight.Losses) + "\n" + string.Join(" ", first.Losses) + "\n" + string.Join(" ", second.Losses));
        Assert.True(TestModels.Copy(a.Parameters).AsSpan().SequenceEqual(TestModels.Copy(c.Parameters)), "weights differ after resume");
        var metrics = MetricsLog.Read(Path.Combine(splitDir, "metrics.jsonl"));
        Assert.Equal(Enumerable.Range(1, 8), metrics.Select(m => m.Step));
        Assert.Equal(MetricsLog.Read(Path.Combine(straightDir, "metrics.jsonl")).Select(m => (m.Loss, m.ValLoss)), metrics.Select(m => (m.Loss, m.ValLoss)));
    }

    [Fact]
    public void ResumeWithDifferentSettingsSaysWhatDiffers()
    {
        string outDir = Path.Combine(_dir, "mismatch");
        using (var m = NewModel())
        {
            new Trainer(m, Options(outDir, 4), new SingleProcess(), new RecordingObserver()).Run();
        }

        using var model = NewModel();
        var e = Assert.Throws<SharpGptException>(() =>
            new Trainer(model, Options(outDir, 8, resume: true) with { MicroBatch = 1 }, new SingleProcess(), new RecordingObserver()).Run());
        Assert.Contains("micro-batch 2 in the checkpoint, 1 now", e.Message);
        Assert.Contains("total-batch-tokens", Assert.Throws<SharpGptException>(() =>
            new Trainer(model, Options(outDir, 8, resume: true) with { TotalBatchTokens = 32 }, new SingleProcess(), new RecordingObserver()).Run()).Message);

        using var other = TestModels.Create(new GptConfig(16, _vocab, 1, 2, 32), _runner);
        Assert.Contains("differs from the requested one", Assert.Throws<SharpGptException>(() =>
            new Trainer(other, Options(outDir, 8, resume: true), new SingleProcess(), new RecordingObserver()).Run()).Message);
    }

    [Fact]
    public void TwoThreadRanksTrainLikeOneRankWithTheWholeMicroBatchAndResumeAsOne()
    {
        // One rank, micro-batch 2, two accumulation steps per optimizer step.
        var one = new RecordingObserver();
        using var a = NewModel();
        new Trainer(a, Options(Path.Combine(_dir, "one"), 6), new SingleProcess(), one).Run();

        // Two ranks that are threads of this process, one sequence each per micro-step, each on its own replica and thread.
        string twoDir = Path.Combine(_dir, "two");
        var two = new RecordingObserver();
        using var source = NewModel();
        using var runner0 = new ParallelRunner(1);
        using var runner1 = new ParallelRunner(1);
        using var replica0 = source.Replicate(new CpuKernels(runner0));
        using var replica1 = source.Replicate(new CpuKernels(runner1));
        GptNetwork[] replicas = [replica0, replica1];
        ThreadRanks.Run(2, c => new Trainer(replicas[c.Rank], Options(twoDir, 6) with { MicroBatch = 1 }, c, c.Rank == 0 ? two : new RecordingObserver()).Run());

        Assert.Contains(two.Messages, m => m.Contains("2 ranks start from identical weights"));
        Assert.Equal(one.Losses.Select(l => l.Step), two.Losses.Select(l => l.Step));
        Assert.All(one.Losses.Zip(two.Losses), p => Assert.Equal(p.First.Loss, p.Second.Loss, 1e-5 * Math.Abs(p.First.Loss)));
        Assert.True(TestModels.Copy(replica0.Parameters).AsSpan().SequenceEqual(TestModels.Copy(replica1.Parameters)), "the ranks' weights differ");
        AssertClose(TestModels.Copy(a.Parameters), TestModels.Copy(replica0.Parameters), 1e-5);

        // The two-rank checkpoint of step 4 resumes as one rank: the same batches, said out loud.
        string resumeDir = Path.Combine(_dir, "resume-one");
        Directory.CreateDirectory(resumeDir);
        File.Copy(TrainingCheckpoint.PathFor(twoDir, 4), TrainingCheckpoint.PathFor(resumeDir, 4));
        var resumed = new RecordingObserver();
        using var c = NewModel();
        new Trainer(c, Options(resumeDir, 6, resume: true), new SingleProcess(), resumed).Run();
        Assert.Contains(resumed.Messages, m => m.Contains("the checkpoint was trained as 2 rank(s) x micro-batch 1, this run is 1 rank(s) x micro-batch 2 (the same batches"));
        Assert.All(one.Losses.Skip(4).Zip(resumed.Losses), p => Assert.Equal(p.First.Loss, p.Second.Loss, 1e-5 * Math.Abs(p.First.Loss)));
    }

    /// <summary>
    /// Thread ranks (each updating its slice of every replica, with its slice of the moments) checkpoint
    /// and resume bit-exactly, in bf16 too, where each replica rounds again the weights other ranks wrote.
    /// </summary>
    [Theory]
    [InlineData(Precision.Fp32)]
    [InlineData(Precision.Bf16)]
    public void TwoThreadRanksResumeBitExactly(Precision precision)
    {
        float[] Train(string outDir, ulong seed, RecordingObserver observer, bool resume = false)
        {
            using var source = TestModels.Create(new GptConfig(16, _vocab, 2, 2, 32), _runner, seed);
            using var runner0 = new ParallelRunner(1);
            using var runner1 = new ParallelRunner(1);
            using var replica0 = source.Replicate(new CpuKernels(runner0));
            using var replica1 = source.Replicate(new CpuKernels(runner1));
            GptNetwork[] replicas = [replica0, replica1];
            var options = Options(outDir, 8, resume) with { MicroBatch = 1, Precision = precision };
            try
            {
                ThreadRanks.Run(2, c => new Trainer(replicas[c.Rank], options, c, c.Rank == 0 ? observer : new RecordingObserver()).Run());
            }
            finally
            {
                Assert.True(TestModels.Copy(replica0.Parameters).AsSpan().SequenceEqual(TestModels.Copy(replica1.Parameters)), "the ranks' weights differ");
            }

            return TestModels.Copy(replica0.Parameters);
        }

        var straight = new RecordingObserver();
        float[] expected = Train(Path.Combine(_dir, "straight"), 5, straight);

        // The first run dies during step 6, after the checkpoint of step 4; the second starts from other weights.
        string splitDir = Path.Combine(_dir, "split");
        var first = new RecordingObserver { CrashAtStep = 6 };
        Assert.Throws<IOException>(() => Train(splitDir, 5, first));
        first.Losses.RemoveAt(first.Losses.Count - 1);
        var second = new RecordingObserver();
        float[] resumed = Train(splitDir, 99, second, resume: true);

        Assert.Equal([5, 6, 7, 8], second.Losses.Select(l => l.Step));
        Assert.Equal(straight.Losses, first.Losses.Concat(second.Losses));
        Assert.True(expected.AsSpan().SequenceEqual(resumed), "weights differ after resume");
    }

    [Theory]
    [InlineData(5, false)] // between checkpoints: the stop writes one
    [InlineData(4, false)] // at a scheduled checkpoint: no second one
    [InlineData(3, true)] // during the validation of step 3: it is cut short and not logged
    public void AStopRequestEndsAfterTheStepWithACheckpointAndResumeContinuesBitExactly(int stopStep, bool inValidation)
    {
        var straight = new RecordingObserver();
        using var a = NewModel();
        new Trainer(a, Options(Path.Combine(_dir, "straight"), 8), new SingleProcess(), straight).Run();

        string splitDir = Path.Combine(_dir, "split");
        var first = inValidation ? new RecordingObserver { StopInValidationOfStep = stopStep } : new RecordingObserver { StopAtStep = stopStep };
        TrainingOutcome stopped;
        using (var b = NewModel())
        {
            stopped = new Trainer(b, Options(splitDir, 8), new SingleProcess(), first).Run(first.Stop.Token);
        }

        Assert.True(stopped.Interrupted);
        Assert.Equal(stopStep, stopped.Steps);
        Assert.Equal(TrainingCheckpoint.PathFor(splitDir, stopStep), stopped.LastCheckpoint);
        Assert.Single(first.Checkpoints, stopStep);
        Assert.Equal(stopStep, first.Losses[^1].Step);
        Assert.Equal(inValidation ? 0 : 1, first.ValLosses.Count); // step 3's validation
        Assert.Empty(Directory.GetFiles(splitDir, "*.tmp*"));

        var second = new RecordingObserver();
        using var c = TestModels.Create(new GptConfig(16, _vocab, 2, 2, 32), _runner, seed: 99);
        var resumed = new Trainer(c, Options(splitDir, 8, resume: true), new SingleProcess(), second).Run();
        Assert.False(resumed.Interrupted);

        Assert.Equal(straight.Losses, first.Losses.Concat(second.Losses));
        Assert.True(TestModels.Copy(a.Parameters).AsSpan().SequenceEqual(TestModels.Copy(c.Parameters)), "weights differ after resume");
        var metrics = MetricsLog.Read(Path.Combine(splitDir, "metrics.jsonl"));
        var expected = MetricsLog.Read(Path.Combine(_dir, "straight", "metrics.jsonl"));
        Assert.Equal(expected.Select(m => (m.Step, m.Loss)), metrics.Select(m => (m.Step, m.Loss)));
        Assert.Equal(expected.Select(m => m.Step == stopStep && inValidation ? null : m.ValLoss), metrics.Select(m => m.ValLoss));
    }

    [Fact]
    public void ThreadRanksStopTogetherWhenOnlyOneOfThemIsAsked()
    {
        using var source = NewModel();
        using var runner0 = new ParallelRunner(1);
        using var runner1 = new ParallelRunner(1);
        using var replica0 = source.Replicate(new CpuKernels(runner0));
        using var replica1 = source.Replicate(new CpuKernels(runner1));
        GptNetwork[] replicas = [replica0, replica1];
        string outDir = Path.Combine(_dir, "ranks-stop");
        var observer = new RecordingObserver { StopAtStep = 2 };
        var outcomes = new TrainingOutcome[2];

        // Rank 1 is never asked: it must still leave after step 2, or rank 0 would wait for it forever.
        ThreadRanks.Run(2, c => outcomes[c.Rank] = new Trainer(replicas[c.Rank], Options(outDir, 8) with { MicroBatch = 1 }, c,
            c.Rank == 0 ? observer : new RecordingObserver()).Run(c.Rank == 0 ? observer.Stop.Token : CancellationToken.None));

        Assert.All(outcomes, o => Assert.True(o.Interrupted && o.Steps == 2, $"{o}"));
        Assert.True(File.Exists(TrainingCheckpoint.PathFor(outDir, 2)));
        Assert.True(TestModels.Copy(replica0.Parameters).AsSpan().SequenceEqual(TestModels.Copy(replica1.Parameters)), "the ranks' weights differ");
    }

    [Fact]
    public void AFullDiskAtACheckpointStopsNamingTheLastGoodOneAndLeavesNoTemporaryFile()
    {
        if (!File.Exists("/dev/full"))
        {
            return; // the failure is injected through Linux's /dev/full
        }

        string outDir = Path.Combine(_dir, "full");
        Directory.CreateDirectory(outDir);
        // The checkpoint of step 4 is written through its temporary file, which here leads to a device
        // whose every write fails with ENOSPC, as a full disk does.
        string temp = TrainingCheckpoint.PathFor(outDir, 4) + ".tmp-" + Environment.ProcessId;
        File.CreateSymbolicLink(temp, "/dev/full");

        using var model = NewModel();
        var observer = new RecordingObserver();
        var e = Assert.Throws<SharpGptException>(() =>
            new Trainer(model, Options(outDir, 8) with { CheckpointEvery = 2 }, new SingleProcess(), observer).Run());

        string good = TrainingCheckpoint.PathFor(outDir, 2);
        Assert.Equal(TrainingCheckpoint.PathFor(outDir, 4), e.Subject);
        Assert.Contains("the checkpoint of step 4 could not be written: cannot write it: no space left on device", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"the last good checkpoint is {good}; free space and continue from it with Resume", e.Message);
        Assert.Equal([2], observer.Checkpoints);
        Assert.Equal([good], Directory.GetFiles(outDir, "ckpt_*"));
        using var loaded = TrainingCheckpoint.LoadModel(good, new CpuKernels(_runner)).Model;
        Assert.Equal(model.Config, loaded.Config);
    }

    [Fact]
    public void TemporaryFilesOfProcessesThatEndedAreRemovedAtTheStartAndReported()
    {
        string outDir = Path.Combine(_dir, "stale");
        Directory.CreateDirectory(outDir);
        // No process has this id (Linux's pid_max is at most 2^22); this one runs: its file may still be in use.
        string stale = TrainingCheckpoint.PathFor(outDir, 40) + ".tmp-" + int.MaxValue;
        string live = TrainingCheckpoint.PathFor(outDir, 41) + ".tmp-" + Environment.ProcessId;
        File.WriteAllBytes(stale, new byte[3 << 20]);
        File.WriteAllBytes(live, new byte[10]);

        using var model = NewModel();
        var observer = new RecordingObserver();
        new Trainer(model, Options(outDir, 1, resume: true), new SingleProcess(), observer).Run();

        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(live));
        Assert.Contains($"removed {stale} (3.0 MiB), a file that process {int.MaxValue} was writing when it ended", observer.Messages);
    }

    private static void AssertClose(float[] expected, float[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * scale, $"element {i}: {expected[i]} vs {actual[i]}");
        }
    }

    [Fact]
    public void ResumingInAnotherPrecisionWorksAndSaysSo()
    {
        string outDir = Path.Combine(_dir, "precision");
        var bf16 = new RecordingObserver();
        using (var m = NewModel())
        {
            new Trainer(m, Options(outDir, 4) with { Precision = Precision.Bf16 }, new SingleProcess(), bf16).Run();
        }

        var fp32 = new RecordingObserver();
        using var model = NewModel();
        new Trainer(model, Options(outDir, 6, resume: true), new SingleProcess(), fp32).Run();
        Assert.Equal(Precision.Fp32, model.Precision);
        Assert.Equal([5, 6], fp32.Losses.Select(l => l.Step));
        Assert.Contains(fp32.Messages, m => m.Contains("the checkpoint was trained in bf16, this run continues in fp32"));
        Assert.Equal(Precision.Bf16, TrainingCheckpoint.ReadMetadata(TrainingCheckpoint.PathFor(outDir, 4)).Run!.Precision);
        Assert.Equal(Precision.Fp32, TrainingCheckpoint.ReadMetadata(TrainingCheckpoint.PathFor(outDir, 6)).Run!.Precision);
    }

    [Fact]
    public void WritesMetricsCheckpointsAndAFinalWholeSplitValidation()
    {
        string outDir = Path.Combine(_dir, "run");
        var observer = new RecordingObserver();
        using var model = NewModel();
        var outcome = new Trainer(model, Options(outDir, 8) with { KeepCheckpoints = 1, FinalValSteps = 0 }, new SingleProcess(), observer).Run();

        var metrics = MetricsLog.Read(Path.Combine(outDir, "metrics.jsonl"));
        Assert.Equal(8, metrics.Count);
        Assert.Equal([3, 6, 8], metrics.Where(m => m.ValLoss is not null).Select(m => m.Step));
        Assert.Equal(64L * 8, metrics[^1].Tokens);
        Assert.Equal(outcome.FinalValLoss, metrics[^1].ValLoss);
        Assert.True(metrics[^1].Loss < metrics[0].Loss, "the loss should fall on this easy text");
        Assert.Equal([TrainingCheckpoint.PathFor(outDir, 8)], Directory.GetFiles(outDir, "*.sgpt"));
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp*"));

        // The final number is the loss over the whole validation split.
        var val = TokenDataLoader.ForSplit(_data, "val", 2, 16);
        var (sum, count, batches) = ValidationLoss.Measure(model, val, 0);
        Assert.Equal((float)(sum / count), outcome.FinalValLoss);
        Assert.Equal(val.StepsPerEpoch * 32, count);
        Assert.True(outcome.FinalValWholeSplit);
        Assert.Equal(val.StepsPerEpoch, batches);
        Assert.Equal(batches, outcome.FinalValBatches);
    }

    [Fact]
    public void ValEveryZeroMeansNoValidationAtAll()
    {
        string outDir = Path.Combine(_dir, "no-val");
        var observer = new RecordingObserver();
        using var model = NewModel();
        var outcome = new Trainer(model, Options(outDir, 4) with { ValEvery = 0, FinalValSteps = 0 }, new SingleProcess(), observer).Run();

        Assert.Empty(observer.ValLosses);
        Assert.Empty(observer.Progress);
        Assert.Null(outcome.FinalValLoss);
        Assert.All(MetricsLog.Read(Path.Combine(outDir, "metrics.jsonl")), m => Assert.Null(m.ValLoss));
    }

    [Fact]
    public void TheFinalValidationReadsValStepsBatches()
    {
        string outDir = Path.Combine(_dir, "final-val");
        var observer = new RecordingObserver();
        using var model = NewModel();
        var options = Options(outDir, 4) with { ValEvery = 100, ValSteps = 3 };
        var outcome = new Trainer(model, options, new SingleProcess(), observer).Run();

        // Only the last step validates (100 > 4), over batches 1, 2 and 3 of a split that holds more.
        var val = TokenDataLoader.ForSplit(_data, "val", 2, 16);
        Assert.True(val.StepsPerEpoch > 3, $"the split holds only {val.StepsPerEpoch} batches");
        Assert.Equal([(4, "validation", 1L, 3L), (4, "validation", 2L, 3L), (4, "validation", 3L, 3L)], observer.Progress);
        Assert.Equal(3, outcome.FinalValBatches);
        Assert.False(outcome.FinalValWholeSplit);
        var (sum, count, _) = ValidationLoss.Measure(model, val, 3);
        Assert.Equal((float)(sum / count), outcome.FinalValLoss);
        var (wholeSum, wholeCount, _) = ValidationLoss.Measure(model, val, 0);
        Assert.NotEqual((float)(wholeSum / wholeCount), outcome.FinalValLoss);
    }

    [Fact]
    public void ADivergingRunStopsAndKeepsTheLastGoodCheckpoint()
    {
        string outDir = Path.Combine(_dir, "nan");
        var observer = new RecordingObserver();
        using var model = NewModel();
        new Trainer(model, Options(outDir, 4), new SingleProcess(), observer).Run();
        byte[] good = File.ReadAllBytes(TrainingCheckpoint.PathFor(outDir, 4));

        model.Parameters.Span[(int)model.Layout.Offsets[model.Layout.IndexOf("lnfw")]] = float.NaN;
        var outcome = new Trainer(model, Options(outDir, 8) with { CheckpointEvery = 1 }, new SingleProcess(), observer).Run();
        Assert.True(outcome.Diverged);
        Assert.True(observer.Messages.Any(m => m.Contains("Stopping: the loss became NaN") && m.Contains("at step 1;")), string.Join("\n", observer.Messages));
        Assert.Equal(good, File.ReadAllBytes(TrainingCheckpoint.PathFor(outDir, 4)));
        Assert.Single(Directory.GetFiles(outDir, "*.sgpt"));
    }

    [Fact]
    public void ASequenceLongerThanTheBlockSizeIsRejected()
    {
        using var model = NewModel();
        var e = Assert.Throws<SharpGptException>(() => new Trainer(model, Options(Path.Combine(_dir, "long"), 2) with { SeqLen = 32, TotalBatchTokens = 64 }, new SingleProcess(), new RecordingObserver()).Run());
        Assert.Contains("SequenceLength: 32 exceeds the model's block size 16", e.Message);
    }

    [Fact]
    public void TokensBeyondTheModelVocabularyAreRejected()
    {
        using var model = TestModels.Create(new GptConfig(16, _vocab - 1, 2, 2, 32), _runner);
        var e = Assert.ThrowsAny<Exception>(() => new Trainer(model, Options(Path.Combine(_dir, "vocab"), 2), new SingleProcess(), new RecordingObserver()).Run());
        Assert.Contains("train_000000.bin", e.Message);
    }
}
