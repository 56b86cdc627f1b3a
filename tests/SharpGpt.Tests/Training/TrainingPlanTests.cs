using SharpGpt.Model;
using SharpGpt.Training;

namespace SharpGpt.Tests.Training;

public class TrainingPlanTests
{
    private static TrainingPlan Plan(TrainingSettings options, long valBatchesPerPass = 100, long hellaSwagTokens = 0, int worldSize = 1) => new()
    {
        Recipe = TrainingRecipe.Gpt2_124M,
        Config = GptConfig.Gpt2Small,
        Parameters = 124_439_808,
        Batch = BatchPlan.Create(options.TotalBatchTokens, options.MicroBatch, options.SeqLen, worldSize),
        Options = options,
        StateBytes = 1,
        ActivationBytes = 1,
        Threads = 2,
        TrainTokens = 9_900_000_000,
        ValTokens = 100_000_000,
        ValBatchesPerPass = valBatchesPerPass,
        HellaSwagTokensPerPass = hellaSwagTokens,
    };

    private static TrainingSettings Options(int maxSteps, int valEvery, int valSteps, int? finalValSteps = null) => new()
    {
        Data = TrainingData.FromTokens([1, 2, 3], null, GptTokenizer.Gpt2),
        OutDir = "out",
        MicroBatch = 16,
        SeqLen = 1024,
        TotalBatchTokens = 524_288,
        MaxSteps = maxSteps,
        ValEvery = valEvery,
        ValSteps = valSteps,
        FinalValSteps = finalValSteps,
    };

    [Theory]
    [InlineData(1000, 250, 20, 0, (3 * 20) + 100)]      // steps 250, 500, 750; 1000 is the whole split
    [InlineData(1000, 250, 20, null, 4 * 20)]           // the last step reads --val-steps batches too
    [InlineData(1001, 250, 20, 0, (4 * 20) + 100)]
    [InlineData(1001, 250, 20, 5, (4 * 20) + 5)]
    [InlineData(1000, 0, 20, 0, 0)]                     // --val-every 0: no validation at all
    [InlineData(1000, 250, 0, 0, (3 * 100) + 100)]      // 0 = the whole split every time
    [InlineData(1000, 250, 500, 0, (3 * 100) + 100)]    // more than the split holds: the split once
    public void Counts_the_validation_batches_the_trainer_runs(int maxSteps, int valEvery, int valSteps, int? finalValSteps, long expected)
    {
        Assert.Equal(expected, Plan(Options(maxSteps, valEvery, valSteps, finalValSteps)).ValidationBatches);
    }

    [Fact]
    public void Without_a_validation_split_there_is_no_validation()
    {
        Assert.Equal(0, Plan(Options(1000, 250, 20), valBatchesPerPass: 0).ValidationBatches);
    }

    [Theory]
    [InlineData(19_073, 250, 77)] // 76 on schedule and one after the last step
    [InlineData(1000, 250, 4)]
    [InlineData(1000, 0, 1)]
    public void Counts_hellaswag_scorings_every_n_steps_and_after_the_last(int maxSteps, int every, long expected)
    {
        var options = Options(maxSteps, 250, 20) with { HellaSwagPath = "hellaswag_val.jsonl", HellaSwagEvery = every };
        Assert.Equal(expected, Plan(options).HellaSwagEvaluations);
        Assert.Equal(0, Plan(options with { HellaSwagPath = null }).HellaSwagEvaluations);
    }

    [Fact]
    public void Estimates_from_the_time_of_one_sequence_and_of_a_forward_token()
    {
        var options = Options(100, 50, 20) with { HellaSwagPath = "hs.jsonl", HellaSwagEvery = 50 };
        var plan = Plan(options, valBatchesPerPass: 10, hellaSwagTokens: 4_000, worldSize: 2);
        // Timed at B=2: 3 s a micro-step (1.5 s a sequence); forward 0.2048 s for 2 x 1024 tokens (1e-4 s a token).
        var timing = new MicroStepTiming(2, 1024, 2, 3.0, 0.2048, 10);

        var estimate = plan.Estimate(timing);

        Assert.Equal(16, plan.Batch.AccumulationSteps); // 524,288 / (16 x 1024 x 2 ranks)
        Assert.Equal(100 * 16 * 16 * 1.5, estimate.TrainSeconds, 6);
        Assert.Equal(((1 * 10) + 10) * 16 * 1024 * 1e-4, estimate.ValSeconds, 6); // step 50 on 10 batches, the whole split (10) at 100
        Assert.Equal(2 * 4_000 / 2 * 1e-4, estimate.HellaSwagSeconds, 6);         // two scorings, each rank half the examples
        Assert.Equal(estimate.TrainSeconds + estimate.ValSeconds + estimate.HellaSwagSeconds, estimate.TotalSeconds, 6);
    }

    [Fact]
    public void The_json_line_names_every_setting_of_the_plan()
    {
        var json = System.Text.Json.JsonDocument.Parse(Plan(Options(19_073, 250, 20) with { LearningRate = 6e-4f, MinLearningRate = 6e-5f }).ToJson(null)).RootElement;

        string[] required = ["layers", "heads", "embd", "seq_len", "total_batch_tokens", "micro_batch", "accumulation_steps", "max_steps", "lr", "min_lr",
            "warmup", "weight_decay", "grad_clip", "beta1", "beta2", "val_every", "hellaswag_every", "checkpoint_every", "est_seconds"];
        Assert.All(required, name => Assert.True(json.TryGetProperty(name, out _), name));
        Assert.Equal(6e-4, json.GetProperty("lr").GetDouble());
        Assert.Equal(6e-5, json.GetProperty("min_lr").GetDouble());
        Assert.Equal(1.01, json.GetProperty("passes").GetDouble(), 2);
    }

    [Theory]
    [InlineData(6e-4f, "6e-4")]
    [InlineData(6e-5f, "6e-5")]
    [InlineData(1e-8f, "1e-8")]
    [InlineData(2.5e-4f, "2.5e-4")]
    [InlineData(1e-3f, "1e-3")]
    [InlineData(0.01f, "0.01")]
    [InlineData(0.95f, "0.95")]
    [InlineData(0f, "0")]
    [InlineData(1f, "1")]
    public void Floats_read_as_typed(float value, string expected)
    {
        Assert.Equal(expected, TrainingSetting.Format(value));
    }
}
