using SharpGpt.Inference;
using SharpGpt.Kernels;
using SharpGpt.Tests.Model;
using static SharpGpt.Tests.Inference.InferenceTestModels;

namespace SharpGpt.Tests.Inference;

public sealed class KvCacheDecoderTests
{
    private const float Tolerance = 1e-5f;

    [Theory]
    [InlineData("tiny", 1)]
    [InlineData("tiny", 2)]
    [InlineData("odd", 2)]
    public void CachedDecodingMatchesFullForwardAtEveryPosition(string name, int threads)
    {
        var config = ByName(name);
        using var runner = new ParallelRunner(threads);
        using var model = Create(config, runner, seed: 5);
        int[] tokens = TestModels.Batch(config, 1, config.MaxSeqLen, seed: 9).Inputs;
        float[][] expected = FullLogits(model, tokens);

        using var decoder = new KvCacheDecoder(model);
        AssertClose(expected[0], decoder.Prefill(tokens.AsSpan(0, 1)), Tolerance, "position 0");
        for (int i = 1; i < tokens.Length; i++)
        {
            AssertClose(expected[i], decoder.Append(tokens[i]), Tolerance, $"position {i}");
        }

        Assert.Equal(tokens.Length, decoder.Length);
    }

    [Theory]
    [InlineData("tiny")]
    [InlineData("odd")]
    public void BatchedPrefillThenAppendMatchesFullForward(string name)
    {
        var config = ByName(name);
        using var runner = new ParallelRunner(2);
        using var model = Create(config, runner, seed: 6);
        int[] tokens = TestModels.Batch(config, 1, config.MaxSeqLen, seed: 10).Inputs;
        float[][] expected = FullLogits(model, tokens);

        using var decoder = new KvCacheDecoder(model);
        int prompt = 7;
        AssertClose(expected[prompt - 1], decoder.Prefill(tokens.AsSpan(0, prompt)), Tolerance, "after prefill");
        for (int i = prompt; i < tokens.Length; i++)
        {
            AssertClose(expected[i], decoder.Append(tokens[i]), Tolerance, $"position {i}");
        }

        // A second prefill starts over rather than extending the old context.
        AssertClose(expected[2], decoder.Prefill(tokens.AsSpan(0, 3)), Tolerance, "after re-prefill");
        Assert.Equal(3, decoder.Length);
    }

    [Theory]
    [InlineData("tiny")]
    [InlineData("wide")]
    public void PastTheBlockSizeTheWindowSlidesAndMatchesAFullForwardOverTheLastBlock(string name)
    {
        var config = ByName(name);
        using var runner = new ParallelRunner(2);
        using var model = Create(config, runner);
        int total = (2 * config.MaxSeqLen) + 5;
        int[] tokens = TestModels.Batch(config, 1, total, seed: 4).Inputs;
        using var decoder = new KvCacheDecoder(model);
        decoder.Prefill(tokens.AsSpan(0, 1));
        for (int i = 1; i < total; i++)
        {
            float[] cached = decoder.Append(tokens[i]).ToArray();
            if (i >= config.MaxSeqLen)
            {
                Assert.Equal(tokens.AsSpan(i - config.MaxSeqLen + 1, config.MaxSeqLen), decoder.Context);
                AssertClose(FullLogits(model, decoder.Context)[^1], cached, Tolerance, $"token {i}");
            }
        }

        Assert.Equal(config.MaxSeqLen, decoder.Length);
        Assert.Equal(total - config.MaxSeqLen, decoder.Slides);
    }

    [Fact]
    public void AFullBlockPrefillOnTheThreadTeamMatchesTheFullForward()
    {
        var config = Wide;
        Assert.True((long)config.MaxSeqLen * config.MaxSeqLen * config.Channels >= CachedAttention.SerialWork, "the prefill would not go parallel");
        using var runner = new ParallelRunner(2);
        using var model = Create(config, runner, seed: 3);
        int[] tokens = TestModels.Batch(config, 1, config.MaxSeqLen, seed: 12).Inputs;
        float[][] expected = FullLogits(model, tokens);
        using var decoder = new KvCacheDecoder(model);
        AssertClose(expected[^1], decoder.Prefill(tokens), Tolerance, "full block");
        decoder.Prefill(tokens.AsSpan(0, config.MaxSeqLen - 3));
        for (int i = config.MaxSeqLen - 3; i < config.MaxSeqLen; i++)
        {
            AssertClose(expected[i], decoder.Append(tokens[i]), Tolerance, $"position {i}");
        }
    }

    [Fact]
    public void APromptLongerThanTheBlockKeepsItsLastBlock()
    {
        var config = TestModels.Tiny;
        using var runner = new ParallelRunner(1);
        using var model = Create(config, runner);
        int[] tokens = TestModels.Batch(config, 1, config.MaxSeqLen + 4, seed: 8).Inputs;
        using var decoder = new KvCacheDecoder(model);
        float[] cached = decoder.Prefill(tokens).ToArray();
        Assert.Equal(tokens.AsSpan(4), decoder.Context);
        AssertClose(FullLogits(model, tokens.AsSpan(4))[^1], cached, Tolerance, "last block");
    }

    [Theory]
    [InlineData(97)]
    [InlineData(1000)]
    [InlineData(-1)]
    public void TokensOutsideTheVocabularyAreRejectedClearly(int bad)
    {
        using var runner = new ParallelRunner(1);
        using var model = Create(TestModels.Tiny, runner);
        using var decoder = new KvCacheDecoder(model);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Prefill([3, bad, 5]));
        Assert.Contains($"Token id {bad} at position 1", e.Message);
        Assert.Contains("vocabulary [0, 97)", e.Message);
        Assert.Equal(0, decoder.Length);

        decoder.Prefill([3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Append(bad));
        Assert.Equal(1, decoder.Length);
        Assert.Throws<ArgumentException>(() => decoder.Prefill([]));
    }
}
