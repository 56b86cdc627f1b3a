using System.Text.Json;
using SharpGpt.Data;
using SharpGpt.Formats;
using SharpGpt.Kernels;
using SharpGpt.Model;
using SharpGpt.Tests.Data;
using SharpGpt.Tests.Eval;
using SharpGpt.Tests.Kernels;
using SharpGpt.Tests.Model;
using SharpGpt.Training;

namespace SharpGpt.Tests.FineTuning;

/// <summary>Training on fine-tuning data: the packed rows against PyTorch's, accumulation with masks against one big
/// batch, a resumed fine-tune against an uninterrupted one, and the counts of trained-on tokens in the metrics and
/// the validation loss.</summary>
public sealed class FineTuningTrainingTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void The_loader_packs_the_reference_examples_into_pytorchs_batch()
    {
        // gpt2_reference.py --examples 12: its own packing of the same examples gave the fixture's inputs and targets,
        // whose loss and gradients ReferenceFixtureTests checks (fixture "finetune").
        using var doc = JsonDocument.Parse(File.ReadAllText(ReferenceFixtureTests.FixturePath("finetune_examples.json")));
        var examples = doc.RootElement.GetProperty("examples").EnumerateArray()
            .Select(e => (e.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray(), e.GetProperty("trained").EnumerateArray().Select(t => t.GetBoolean()).ToArray()))
            .ToArray();
        var config = LlmcCheckpoint.ReadConfig(ReferenceFixtureTests.FixturePath("finetune_model.bin"));
        var state = LlmcDebugState.Read(ReferenceFixtureTests.FixturePath("finetune_state.bin"), config);

        var loader = new TokenDataLoader(FineTuningExamples.Shards(examples), state.B, state.T);
        loader.NextBatch();

        Assert.Equal(state.Inputs, loader.Inputs);
        Assert.Equal(state.Targets, loader.Targets);
        Assert.Equal(doc.RootElement.GetProperty("rows").GetInt32(), loader.Rows);
        Assert.Equal(doc.RootElement.GetProperty("truncated").GetInt32(), loader.TruncatedExamples);
        Assert.Equal(1, loader.TruncatedExamples);
        Assert.Contains(-1, state.Targets);
    }

    [Fact]
    public void Accumulated_micro_batches_of_masked_rows_equal_one_big_batch()
    {
        const int b = 2, k = 3, t = 9;
        var config = TestModels.Tiny;
        var rng = new Random(4);
        var examples = Enumerable.Range(0, 30).Select(_ =>
        {
            int length = rng.Next(3, 12), answer = rng.Next(1, length);
            return (Enumerable.Range(0, length).Select(_ => rng.Next(config.VocabSize)).ToArray(), Enumerable.Range(0, length).Select(i => i >= length - answer).ToArray());
        }).ToArray();
        var small = new TokenDataLoader(FineTuningExamples.Shards(examples), b, t);
        var big = new TokenDataLoader(FineTuningExamples.Shards(examples), k * b, t);
        using var runner = new ParallelRunner(2);
        using var a = new AccumulationRun(runner);
        using var c = new AccumulationRun(runner);

        for (int step = 0; step < 3; step++)
        {
            var accumulated = a.Step.Run(k, b, t, _ =>
            {
                small.NextBatch();
                return (small.Inputs, small.Targets);
            }, 1e-3f, 1f);
            big.NextBatch();
            var whole = c.Step.Run(1, k * b, t, _ => (big.Inputs, big.Targets), 1e-3f, 1f);

            Assert.Equal(big.Targets.Count(y => y >= 0), whole.TargetTokens);
            Assert.True(whole.TargetTokens < k * b * t, "the rows must hold masked targets");
            Assert.Equal(whole.TargetTokens, accumulated.TargetTokens);
            Assert.Equal(whole.Loss, accumulated.Loss, 5);
            Assert.Equal(whole.GradNorm, accumulated.GradNorm, 5);
        }

        float[] expected = TestModels.Copy(c.Model.Parameters), actual = TestModels.Copy(a.Model.Parameters);
        double scale = expected.Max(v => Math.Abs((double)v));
        Assert.True(expected.Zip(actual, (x, y) => Math.Abs((double)x - y)).Max() <= 1e-5 * scale);
    }

    [Fact]
    public void A_stopped_fine_tune_resumes_bit_exactly_and_logs_the_tokens_it_trained_on()
    {
        string data = PrepareChatData(conversations: 24);
        var options = Options(_temp.File("straight"));
        using (var model = NewModel(data))
        {
            var result = model.Train(TrainingData.FromDirectory(data), options);
            Assert.Equal(8, result.LastStep);
            Assert.Same(ChatTemplate.Transcript, model.ChatTemplate);
        }

        using (var model = NewModel(data))
        {
            using var stop = new CancellationTokenSource();
            var result = model.Train(TrainingData.FromDirectory(data), options with { OutputDirectory = _temp.File("split") },
                new StopAfter(3, stop), stop.Token);
            Assert.True(result.Stopped);
            Assert.Equal(3, result.LastStep);
        }

        using (var model = NewModel(data))
        {
            model.Train(TrainingData.FromDirectory(data), options with { OutputDirectory = _temp.File("split"), Resume = true });
        }

        var straight = MetricsLog.Read(Path.Combine(_temp.File("straight"), MetricsLog.FileName));
        var split = MetricsLog.Read(Path.Combine(_temp.File("split"), MetricsLog.FileName));
        Assert.Equal(Enumerable.Range(1, 8), split.Select(m => m.Step));
        Assert.Equal(straight.Select(m => (m.Loss, m.ValLoss, m.TrainedTokens)), split.Select(m => (m.Loss, m.ValLoss, m.TrainedTokens)));
        var a = TrainingCheckpoint.ReadMetadata(TrainingCheckpoint.PathFor(_temp.File("straight"), 8));
        Assert.Equal("transcript", a.ChatTemplate);
        using var runner = new ParallelRunner(1);
        using var x = TrainingCheckpoint.LoadModel(TrainingCheckpoint.PathFor(_temp.File("straight"), 8), new CpuKernels(runner)).Model;
        using var y = TrainingCheckpoint.LoadModel(TrainingCheckpoint.PathFor(_temp.File("split"), 8), new CpuKernels(runner)).Model;
        Assert.True(x.Parameters.Span.SequenceEqual(y.Parameters.Span), "the resumed weights differ");

        // trained_tokens is what the step's rows hold as targets: replay the loader (two micro-batches a step, the
        // rows wrapping around after a pass).
        var loader = new TokenDataLoader(TrainingData.FromDirectory(data).Train, 2, 64);
        Assert.True(loader.StepsPerEpoch * 1 < 16, "the run must pass the end of the rows");
        foreach (var record in straight)
        {
            long targets = 0;
            for (int micro = 0; micro < 2; micro++)
            {
                loader.NextBatch();
                targets += loader.Targets.Count(t => t >= 0);
            }

            Assert.Equal(targets, record.TrainedTokens);
            Assert.True(targets < 2 * 2 * 64);
        }
    }

    [Fact]
    public void Validation_counts_only_the_tokens_trained_on_and_epochs_count_passes_over_the_rows()
    {
        string data = PrepareChatData(conversations: 24, validationFraction: 0.25);
        var meta = PreparedDataMeta.Read(data);
        using var model = NewModel(data);

        var score = model.EvaluateLoss(TrainingData.FromDirectory(data), batchSize: 1, sequenceLength: 64);

        // Every trained-on token of the split is a target exactly once: none is an example's first token, none is cut.
        Assert.Equal(meta.ValTrainedTokens, score.TokenCount);
        Assert.True(score.TokenCount < meta.ValTokens / 2);

        var rows = new TokenDataLoader(TrainingData.FromDirectory(data).Train, 2, 64).StepsPerEpoch;
        var result = model.Train(TrainingData.FromDirectory(data), Options(null) with { Epochs = 2, ValidationInterval = 0 });
        Assert.Equal((int)Math.Ceiling(2.0 * rows / 2), result.LastStep);
    }

    private string PrepareChatData(int conversations, double validationFraction = 0.2)
    {
        var rng = new Random(3);
        string[] words = ["red", "green", "blue", "cat", "dog", "sun", "moon", "tree"];
        var lines = Enumerable.Range(0, conversations).Select(i =>
        {
            string Pick() => words[rng.Next(words.Length)];
            var messages = new List<object> { new { role = "user", content = $"{Pick()}?" }, new { role = "assistant", content = Pick() } };
            if (i % 3 == 0)
            {
                messages.Add(new { role = "user", content = "again" });
                messages.Add(new { role = "assistant", content = Pick() });
            }

            return JsonSerializer.Serialize(new { messages });
        });
        File.WriteAllLines(_temp.File("chat.jsonl"), lines);
        string dir = _temp.File($"data-{conversations}-{validationFraction}");
        DataPreparer.Prepare([_temp.File("chat.jsonl")], dir, new PrepareOptions { Tokenizer = TokenizerKind.Character, ValidationFraction = validationFraction });
        return dir;
    }

    private static GptModel NewModel(string data) =>
        GptModel.Create(new GptConfig(64, TrainingData.FromDirectory(data).Tokenizer.VocabSize, 2, 2, 32), TrainingData.FromDirectory(data).Tokenizer,
            new GptModelOptions { Threads = 1, Seed = 5 });

    private static TrainingOptions Options(string? outDir) => new()
    {
        OutputDirectory = outDir,
        SequenceLength = 64,
        MicroBatchSize = 2,
        TotalBatchTokens = 2 * 64 * 2,
        MaxSteps = 8,
        LearningRate = 3e-3f,
        WarmupSteps = 2,
        ValidationInterval = 2,
        ValidationBatches = 0,
        CheckpointInterval = 4,
        KeepCheckpoints = 0,
    };

    /// <summary>Asks the run to stop once a step has completed (synchronously, as Ctrl-C would).</summary>
    private sealed class StopAfter(int step, CancellationTokenSource stop) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value)
        {
            if (value is TrainingStepCompleted completed && completed.Step == step)
            {
                stop.Cancel();
            }
        }
    }

    private sealed class AccumulationRun : IDisposable
    {
        public AccumulationRun(ParallelRunner runner)
        {
            Model = TestModels.Create(TestModels.Tiny, runner, seed: 21);
            Optimizer = new AdamWOptimizer(Model, new AdamWSettings());
            Step = new GradientAccumulationStep(Model, Optimizer, new GradientClipper(Model), new SingleProcess());
        }

        public GptNetwork Model { get; }

        public AdamWOptimizer Optimizer { get; }

        public GradientAccumulationStep Step { get; }

        public void Dispose()
        {
            Optimizer.Dispose();
            Model.Dispose();
        }
    }
}
