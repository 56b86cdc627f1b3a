using SharpGpt.Data;
using SharpGpt.Tests.Data;
using SharpGpt.Training;

namespace SharpGpt.Tests.Api;

/// <summary>Scoring through the public API: a text's loss, a split's loss, HellaSwag.</summary>
public sealed class ScoringTests
{
    [Fact]
    public void A_text_is_scored_as_a_document_each_token_from_those_before_it()
    {
        using var model = ApiModels.Gpt2Vocabulary(seed: 2);
        const string text = "A short text to score, with a few words.";
        int[] tokens = [Gpt2Tokenizer.EndOfText, .. GptTokenizer.Gpt2.Encode(text)];

        var score = model.Score(text);

        model.Network.ForwardLoss(tokens[..^1], tokens[1..], 1, tokens.Length - 1);
        Assert.Equal(tokens.Length - 1, score.TokenCount);
        Assert.Equal(model.Network.LossSum / model.Network.TargetCount, score.Loss, 12);
        Assert.Equal(Math.Exp(score.Loss), score.Perplexity);
    }

    [Fact]
    public void A_text_longer_than_the_block_is_read_in_consecutive_blocks()
    {
        using var model = ApiModels.Characters(seed: 4);
        string text = string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 10)); // 240 characters, blocks of 32
        int[] tokens = model.Tokenizer!.Encode(text);

        var score = model.Score(text);

        double sum = 0;
        int count = 0;
        for (int start = 0; start < tokens.Length - 1; start += 32)
        {
            int n = Math.Min(32, tokens.Length - 1 - start);
            model.Network.ForwardLoss(tokens[start..(start + n)], tokens[(start + 1)..(start + 1 + n)], 1, n);
            sum += model.Network.LossSum;
            count += model.Network.TargetCount;
        }

        Assert.Equal(tokens.Length - 1, score.TokenCount);
        Assert.Equal(sum / count, score.Loss, 5);
        Assert.Equal("text", Assert.Throws<ArgumentException>(() => model.Score("a")).ParamName);
    }

    [Fact]
    public void The_loss_of_a_split_is_the_validation_loss_of_training()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("input.txt"), string.Concat(Enumerable.Repeat(ApiModels.Alphabet, 60)));
        DataPreparer.Prepare([temp.File("input.txt")], temp.File("data"), new PrepareOptions { Tokenizer = TokenizerKind.Character });
        var data = TrainingData.FromDirectory(temp.File("data"));
        using var model = GptModel.Create(new GptConfig(32, data.Tokenizer.VocabSize, 2, 2, 32), data.Tokenizer, ApiModels.Cpu());

        var progress = new List<EvaluationProgress>();
        var score = model.EvaluateLoss(data, batches: 0, batchSize: 2, sequenceLength: 16, progress: new Inline<EvaluationProgress>(progress.Add));

        var loader = TokenDataLoader.ForSplit(temp.File("data"), "val", 2, 16);
        var (sum, count, read) = ValidationLoss.Measure(model.Network, loader, 0);
        Assert.Equal(count, score.TokenCount);
        Assert.Equal(sum / count, score.Loss);
        Assert.Equal(read, progress.Count);
        Assert.Equal(progress[^1].Total, progress[^1].Done);
    }

    [Fact]
    public void HellaSwag_through_the_api_picks_the_ending_the_model_finds_least_surprising()
    {
        using var temp = new TempDirectory();
        using var model = ApiModels.Gpt2Vocabulary(seed: 8);
        string path = temp.File("hellaswag.jsonl");
        File.WriteAllLines(path,
        [
            """{"ctx": "The dog ran", "endings": ["to the park.", "up the hill.", "into the lake.", "across the road."], "label": 1}""",
            """{"ctx": "She opened", "endings": ["the door.", "a book.", "the window.", "her eyes."], "label": 3}""",
        ]);

        var result = model.EvaluateHellaSwag(path, limit: 0);

        Assert.Equal(2, result.Count);
        foreach (var p in result.Predictions)
        {
            Assert.Equal(Array.IndexOf([.. p.LossMeans], p.LossMeans.Min()), p.PredictedNorm);
            Assert.Equal(Array.IndexOf([.. p.LossSums], p.LossSums.Min()), p.Predicted);
        }

        Assert.Equal(result.Predictions.Count(p => p.PredictedNorm == p.Label) / 2.0, result.AccuracyNorm);
        Assert.Equal(1, model.EvaluateHellaSwag(path, limit: 1).Count);
    }

    private sealed class Inline<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
