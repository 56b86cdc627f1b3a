using SharpGpt.Tests.Cli;
using SharpGpt.Tests.Data;
using SharpGpt.Training;

namespace SharpGpt.Tests.Api;

/// <summary>Training through the public API: the CLI's losses bit for bit, events, cancellation, data in memory,
/// and nothing written unless asked.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class TrainingApiTests
{
    private static TrainingOptions Short => TrainingRecipe.ShakespeareChar.Options with
    {
        MaxSteps = 6,
        ValidationInterval = 3,
        ValidationBatches = 2,
        FinalValidationBatches = 2,
        MicroBatchSize = 4,
        SequenceLength = 32,
        WarmupSteps = 2,
        Parallelism = ThreadParallelism.Kernels,
    };

    [Fact]
    public void Training_from_code_gives_the_losses_and_weights_of_sharpgpt_train()
    {
        using var temp = new TempDirectory();
        var (code, _, err) = CliRunner.Run("train", "--out", temp.File("cli"), "--max-steps", "6", "--val-every", "3", "--val-steps", "2", "--final-val-steps", "2",
            "--micro-batch", "4", "--seq-len", "32", "--block-size", "32", "--warmup", "2", "--parallel", "kernels", "--threads", "2", "--device", "cpu", "--sample-tokens", "0");
        Assert.True(code == 0, err);

        var data = TrainingData.TinyShakespeare();
        using var model = GptModel.Create(TrainingRecipe.ShakespeareChar.Model! with { VocabSize = data.Tokenizer.VocabSize, MaxSeqLen = 32 }, data.Tokenizer,
            new GptModelOptions { Device = ComputeDevice.Cpu, Threads = 2 });
        var result = model.Train(data, Short with { OutputDirectory = temp.File("api"), CheckpointInterval = 1000 });

        var cli = MetricsLog.Read(Path.Combine(temp.File("cli"), "metrics.jsonl"));
        var api = MetricsLog.Read(Path.Combine(temp.File("api"), "metrics.jsonl"));
        Assert.Equal(cli.Select(m => (m.Step, m.Loss, m.ValLoss, m.GradNorm)), api.Select(m => (m.Step, m.Loss, m.ValLoss, m.GradNorm)));
        // The same weights, optimizer state, data position and settings: the same file, byte for byte.
        Assert.Equal(File.ReadAllBytes(Path.Combine(temp.File("cli"), "ckpt_0000006.sgpt")), File.ReadAllBytes(result.LastCheckpoint!));
        Assert.Equal(6, result.Steps);
        Assert.Equal(6, result.LastStep);
        Assert.Equal(api[^1].ValLoss, result.FinalValidationLoss);
    }

    [Fact]
    public void Progress_reports_the_plan_every_step_and_every_evaluation_in_order()
    {
        var data = TrainingData.TinyShakespeare();
        using var model = CharModel(data);
        var events = new List<TrainingEvent>();
        var result = model.Train(data, Short, new Recorder(events));

        var planned = Assert.IsType<TrainingPlanned>(events[0]);
        Assert.Equal(32, planned.Options.SequenceLength);
        Assert.Equal(4, planned.Options.MicroBatchSize);
        Assert.Equal(1e-4f, planned.Options.MinLearningRate);
        Assert.Equal(4 * 32, planned.TokensPerStep);
        var started = Assert.IsType<TrainingStarted>(events[1]);
        Assert.Equal(0, started.Step);
        Assert.Equal(model.ParameterCount, started.ParameterCount);
        var steps = events.OfType<TrainingStepCompleted>().ToList();
        Assert.Equal(Enumerable.Range(1, 6), steps.Select(s => s.Step));
        Assert.All(steps, s =>
        {
            Assert.Equal(4 * 32, s.TrainedTokens);
            Assert.True(s.TokensPerSecond > 0 && s.Mfu is > 0 and < 1 && float.IsFinite(s.Loss));
        });
        Assert.Equal([3, 6], events.OfType<ValidationCompleted>().Select(v => v.Step));
        Assert.Empty(events.OfType<CheckpointSaved>());
        Assert.False(result.Stopped || result.Diverged);
    }

    [Fact]
    public void Nothing_is_written_unless_an_output_folder_is_given()
    {
        using var temp = new TempDirectory();
        string before = Environment.CurrentDirectory;
        Environment.CurrentDirectory = temp.Path;
        try
        {
            var data = TrainingData.TinyShakespeare();
            using var model = CharModel(data);
            model.Train(data, Short with { MaxSteps = 2, CheckpointInterval = 1 });
            Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
        }
        finally
        {
            Environment.CurrentDirectory = before;
        }
    }

    [Fact]
    public void Cancelling_finishes_the_step_writes_its_checkpoint_and_a_resume_continues_exactly()
    {
        using var temp = new TempDirectory();
        var data = TrainingData.TinyShakespeare();
        var options = Short with { OutputDirectory = temp.File("stopped"), CheckpointInterval = 100, ValidationInterval = 0 };
        List<float> straight;
        using (var model = CharModel(data))
        {
            var events = new List<TrainingEvent>();
            model.Train(data, options with { OutputDirectory = temp.File("straight") }, new Recorder(events));
            straight = [.. events.OfType<TrainingStepCompleted>().Select(s => s.Loss)];
        }

        using var stop = new CancellationTokenSource();
        var first = new List<TrainingEvent>();
        TrainingResult stopped;
        using (var model = CharModel(data))
        {
            stopped = model.Train(data, options, new Recorder(first, e =>
            {
                if (e is TrainingStepCompleted { Step: 2 })
                {
                    stop.Cancel();
                }
            }), stop.Token);
        }

        Assert.True(stopped.Stopped);
        Assert.Equal(2, stopped.LastStep);
        Assert.EndsWith("ckpt_0000002.sgpt", stopped.LastCheckpoint);

        var second = new List<TrainingEvent>();
        using (var model = CharModel(data, seed: 99))
        {
            var resumed = model.Train(data, options with { Resume = true }, new Recorder(second));
            Assert.Equal(4, resumed.Steps);
            Assert.Equal(6, resumed.LastStep);
        }

        Assert.Equal(stopped.LastCheckpoint, Assert.IsType<TrainingStarted>(second[1]).ResumedFrom);
        Assert.Equal(straight, first.Concat(second).OfType<TrainingStepCompleted>().Select(s => s.Loss));
    }

    [Fact]
    public void Data_in_memory_trains_and_fits_its_split()
    {
        var tokenizer = GptTokenizer.CreateCharacterLevel(ApiModels.Alphabet);
        string[] documents = [.. Enumerable.Range(0, 40).Select(i => $"document {i}: the quick brown fox jumps over the lazy dog.\n")];
        var data = TrainingData.FromDocuments(documents, tokenizer, validationFraction: 0.1);
        Assert.Equal("memory", data.Name);
        // Every 10th document validates, the first included: 4 of them.
        Assert.Equal(documents.Where((_, i) => i % 10 == 0).Sum(d => d.Length), data.ValidationTokenCount);
        Assert.Equal(documents.Where((_, i) => i % 10 != 0).Sum(d => d.Length), data.TrainTokenCount);

        using var model = GptModel.Create(new GptConfig(32, tokenizer.VocabSize, 1, 2, 16), tokenizer, ApiModels.Cpu());
        var result = model.Train(data, new TrainingOptions { MaxSteps = 40, MicroBatchSize = 4, SequenceLength = 32, LearningRate = 3e-3f, ValidationInterval = 40, ValidationBatches = 0 });
        Assert.NotNull(result.FinalValidationLoss);
        Assert.True(result.FinalValidationLoss < Math.Log(tokenizer.VocabSize), $"validation loss {result.FinalValidationLoss} did not fall below chance");

        var text = TrainingData.FromText(string.Concat(documents), tokenizer, 0.25);
        Assert.Equal(string.Concat(documents).Length, text.TrainTokenCount + text.ValidationTokenCount);
        var tokens = TrainingData.FromTokens([1, 2, 3, 4], null, tokenizer);
        Assert.Equal(4, tokens.TrainTokenCount);
        Assert.Equal(0, tokens.ValidationTokenCount);
    }

    [Fact]
    public void Options_and_data_that_do_not_fit_name_themselves()
    {
        var data = TrainingData.TinyShakespeare();
        using var model = CharModel(data);
        Assert.Equal("MaxSteps", Assert.Throws<ArgumentOutOfRangeException>(() => model.Train(data, Short with { MaxSteps = 0 })).ParamName);
        Assert.Equal("SequenceLength", Assert.Throws<ArgumentOutOfRangeException>(() => model.Train(data, Short with { SequenceLength = 33 })).ParamName);
        Assert.Equal("Beta2", Assert.Throws<ArgumentOutOfRangeException>(() => model.Train(data, Short with { Beta2 = 1 })).ParamName);
        Assert.Equal("OutputDirectory", Assert.Throws<ArgumentException>(() => model.Train(data, Short with { Resume = true })).ParamName);
        Assert.Equal("TotalBatchTokens", Assert.Throws<SharpGptException>(() => model.Train(data, Short with { TotalBatchTokens = 100 })).Subject);
        Assert.Equal("trainTokens", Assert.Throws<ArgumentOutOfRangeException>(() => TrainingData.FromTokens([1, 999], null, data.Tokenizer)).ParamName);
        Assert.Equal("text", Assert.Throws<ArgumentException>(() => TrainingData.FromText("€uro", data.Tokenizer)).ParamName);

        using var small = GptModel.Create(new GptConfig(32, 10, 1, 1, 8), GptTokenizer.CreateCharacterLevel("abcdefghij"), ApiModels.Cpu());
        Assert.Contains("larger than the model's", Assert.Throws<SharpGptException>(() => small.Train(data, Short)).Message);
    }

    [Fact]
    public void Epochs_give_the_steps_of_that_many_passes()
    {
        var tokenizer = GptTokenizer.CreateCharacterLevel(ApiModels.Alphabet);
        var data = TrainingData.FromTokens([.. Enumerable.Range(0, 1001).Select(i => i % tokenizer.VocabSize)], null, tokenizer);
        using var model = GptModel.Create(new GptConfig(10, tokenizer.VocabSize, 1, 1, 8), tokenizer, ApiModels.Cpu());
        var events = new List<TrainingEvent>();
        // A pass is (1001 - 1) / (B 5 x T 10) = 20 micro-steps; with 2 accumulation steps a step, 1.5 passes are 15 steps.
        var result = model.Train(data, new TrainingOptions { Epochs = 1.5, MicroBatchSize = 5, SequenceLength = 10, TotalBatchTokens = 100, ValidationInterval = 0 }, new Recorder(events));
        Assert.Equal(15, Assert.IsType<TrainingPlanned>(events[0]).Options.MaxSteps);
        Assert.Equal(15, result.LastStep);
    }

    [Fact]
    public void Thread_ranks_leave_their_trained_weights_in_the_model()
    {
        using var temp = new TempDirectory();
        var data = TrainingData.TinyShakespeare();
        using var model = CharModel(data);
        var before = model.Score("ROMEO: what light through yonder window breaks?");
        var result = model.Train(data, Short with { Parallelism = ThreadParallelism.Batch, OutputDirectory = temp.Path, CheckpointInterval = 6 });
        var after = model.Score("ROMEO: what light through yonder window breaks?");

        Assert.NotEqual(before.Loss, after.Loss);
        using var saved = GptModel.Open(result.LastCheckpoint!, ApiModels.Cpu());
        Assert.Equal(saved.Score("ROMEO: what light through yonder window breaks?"), after);
    }

    private static GptModel CharModel(TrainingData data, ulong seed = 1337) =>
        GptModel.Create(TrainingRecipe.ShakespeareChar.Model! with { VocabSize = data.Tokenizer.VocabSize, MaxSeqLen = 32 }, data.Tokenizer,
            new GptModelOptions { Device = ComputeDevice.Cpu, Threads = 2, Seed = seed });

    private sealed class Recorder(List<TrainingEvent> events, Action<TrainingEvent>? also = null) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value)
        {
            events.Add(value);
            also?.Invoke(value);
        }
    }
}
