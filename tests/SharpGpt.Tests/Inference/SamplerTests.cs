using SharpGpt.Inference;
using SharpGpt.Kernels;
using SharpGpt.Tests.Model;
using static SharpGpt.Tests.Inference.InferenceTestModels;

namespace SharpGpt.Tests.Inference;

public sealed class SamplerTests
{
    private static readonly int[] Prompt = [5, 17, 42];

    private static int[] Sample(SamplingOptions options, int count, int[]? prompt = null)
    {
        using var runner = new ParallelRunner(2);
        using var model = Create(TestModels.Tiny, runner);
        using var decoder = new KvCacheDecoder(model);
        return new Sampler(decoder, options).Generate(prompt ?? Prompt, count);
    }

    [Fact]
    public void GreedyIsDeterministicAndFollowsTheFullRecomputeArgmax()
    {
        var config = TestModels.Tiny;
        using var runner = new ParallelRunner(2);
        using var model = Create(config, runner);
        using var decoder = new KvCacheDecoder(model);
        var streamed = new List<int>();
        int[] generated = new Sampler(decoder, new SamplingOptions(Temperature: 0)).Generate(Prompt, 12, streamed.Add);

        Assert.Equal(generated, streamed);
        Assert.Equal(generated, Sample(new SamplingOptions(Temperature: 0, Seed: 99), 12));
        var sequence = new List<int>(Prompt);
        foreach (int token in generated)
        {
            Assert.Equal(ArgMax(FullLogits(model, sequence.ToArray())[^1]), token);
            sequence.Add(token);
        }
    }

    [Fact]
    public void ASeedReproducesItsSampleAndAnotherSeedDiffers()
    {
        var a = Sample(new SamplingOptions(TopK: 0, Temperature: 1, Seed: 1), 24);
        var b = Sample(new SamplingOptions(TopK: 0, Temperature: 1, Seed: 1), 24);
        var c = Sample(new SamplingOptions(TopK: 0, Temperature: 1, Seed: 2), 24);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(Sample(new SamplingOptions(TopK: 10, Seed: 3), 24), Sample(new SamplingOptions(TopK: 10, Seed: 3), 24));
    }

    [Fact]
    public void TopKOfOneIsGreedy()
    {
        Assert.Equal(Sample(new SamplingOptions(Temperature: 0), 12), Sample(new SamplingOptions(TopK: 1, Temperature: 1.5f, Seed: 7), 12));
    }

    [Fact]
    public void TopKOnlyDrawsFromTheKLargestLogitsAndTiesGoToTheLowerId()
    {
        using var runner = new ParallelRunner(1);
        using var model = Create(TestModels.Tiny, runner);
        using var decoder = new KvCacheDecoder(model);
        var logits = new float[TestModels.Tiny.VocabSize];
        logits[10] = 3f;
        logits[20] = 2f;
        logits[30] = 2f;
        logits[40] = 2f; // tied with 20 and 30: top-3 keeps the lower ids 20 and 30
        var sampler = new Sampler(decoder, new SamplingOptions(TopK: 3, Temperature: 1, Seed: 5));
        var seen = new HashSet<int>();
        for (int i = 0; i < 2000; i++)
        {
            seen.Add(sampler.Next(logits));
        }

        Assert.Equal([10, 20, 30], seen.Order());
        Assert.Equal(10, new Sampler(decoder, new SamplingOptions(TopK: 0, Temperature: 0)).Next(logits));
    }

    [Fact]
    public void LongGenerationSlidesAndKeepsProducingValidIds()
    {
        using var runner = new ParallelRunner(2);
        using var model = Create(TestModels.Tiny, runner);
        using var decoder = new KvCacheDecoder(model);
        int[] generated = new Sampler(decoder, new SamplingOptions(TopK: 20, Seed: 11)).Generate(Prompt, 50);
        Assert.Equal(50, generated.Length);
        Assert.All(generated, id => Assert.InRange(id, 0, TestModels.Tiny.VocabSize - 1));
        Assert.True(decoder.Slides > 0);
    }

    [Fact]
    public void BadInputIsRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Sample(new SamplingOptions(), 4, [1, 2, 97]));
        Assert.Contains("Token id 97 at position 2", e.Message);
        Assert.Throws<ArgumentException>(() => Sample(new SamplingOptions(), 4, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sample(new SamplingOptions(Temperature: -1), 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sample(new SamplingOptions(Temperature: float.NaN), 4));
    }
}
