using Microsoft.Extensions.AI;

namespace SharpGpt.Tests.Inference;

public sealed class GptBatchGeneratorTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Twelve generations through four places: they queue, join as others leave (continuous batching) and
    /// decode four at a time, and each gets exactly what a decode of its prompt alone gives: the same tokens, text,
    /// finish reason and counts.</summary>
    [Fact]
    public async Task GreedyGenerationsInABatchEqualDecodesAlone()
    {
        using var model = BatchTestModels.Gpt2Vocabulary();
        var requests = Enumerable.Range(0, 12).Select(i => (
            Prompt: Prompt(model, i, 1 + (i * 3 % 17)),
            Options: new GenerationOptions { Temperature = 0, MaxTokens = 6 + (i * 7 % 30) })).ToArray();
        var expected = requests.Select(r => model.GenerateFromTokens(r.Prompt, r.Options)).ToArray();
        Assert.True(expected.Select(e => string.Join(',', e.Tokens)).Distinct().Count() >= 10, "the continuations should differ, so a mix-up would show");

        using var generator = model.CreateBatchGenerator(maxBatchSize: 4, maxQueueLength: 8);
        var results = await Task.WhenAll(requests.Select(r => Collect(generator, r.Prompt, r.Options)));
        for (int i = 0; i < requests.Length; i++)
        {
            AssertSame(expected[i], results[i].Result, $"generation {i}");
            Assert.Equal(expected[i].Text, results[i].Streamed);
        }

        Assert.Equal(4, generator.LargestStep);
        Assert.Equal(0, generator.ActiveCount);
        Assert.Equal(0, generator.QueuedCount);
    }

    /// <summary>A generation joins while others are mid-way: it is prefilled on its own and then decodes with them,
    /// and neither it nor they change.</summary>
    [Fact]
    public async Task AGenerationJoiningMidWayChangesNothing()
    {
        using var model = BatchTestModels.Gpt2Vocabulary();
        var options = new GenerationOptions { Temperature = 0, MaxTokens = 40, StopAtEndOfText = false };
        // The first runs long enough that the others surely join while it decodes, however loaded the machine.
        var longer = options with { MaxTokens = 300 };
        int[] first = Prompt(model, 1, 5), second = Prompt(model, 2, 11), third = Prompt(model, 3, 2);
        var expected = new[] { (first, longer), (second, options), (third, options) }.Select(r => model.GenerateFromTokens(r.Item1, r.Item2)).ToArray();

        using var generator = model.CreateBatchGenerator(maxBatchSize: 3);
        generator.StepDelay = TimeSpan.FromMilliseconds(2);
        await using var a = generator.GenerateAsync(first, longer).GetAsyncEnumerator();
        var aText = new System.Text.StringBuilder();
        GenerationResult? aResult = null;
        for (int pieces = 0; pieces < 10 && await a.MoveNextAsync(); pieces++)
        {
            aText.Append(a.Current.Text);
            aResult = a.Current.Result ?? aResult;
        }

        var late = Task.WhenAll(Collect(generator, second, options), Collect(generator, third, options));
        while (await a.MoveNextAsync())
        {
            aText.Append(a.Current.Text);
            aResult = a.Current.Result ?? aResult;
        }

        var lateResults = await late;
        AssertSame(expected[0], aResult!, "the first");
        Assert.Equal(expected[0].Text, aText.ToString());
        AssertSame(expected[1], lateResults[0].Result, "the second");
        AssertSame(expected[2], lateResults[1].Result, "the third");
        Assert.Equal(3, generator.LargestStep);
    }

    /// <summary>Sampling, top-k, top-p, stop sequences and a context that slides past the block size: with the same
    /// seeds, the batch draws what each draws alone.</summary>
    [Fact]
    public async Task SeededSamplingStopSequencesAndSlidingEqualDecodesAlone()
    {
        using var model = BatchTestModels.Gpt2Vocabulary(blockSize: 32);
        var requests = Enumerable.Range(0, 6).Select(i => (
            Prompt: Prompt(model, 40 + i, i % 2 == 0 ? 28 : 3),
            Options: new GenerationOptions
            {
                Temperature = 0.7f + (0.1f * i),
                TopK = i % 3 == 0 ? 0 : 40,
                TopP = i % 2 == 0 ? 1f : 0.9f,
                Seed = (ulong)(100 + i),
                MaxTokens = 30,
                StopSequences = i == 5 ? ["e"] : [],
            })).ToArray();
        var expected = requests.Select(r => model.GenerateFromTokens(r.Prompt, r.Options)).ToArray();

        using var generator = model.CreateBatchGenerator(maxBatchSize: 6);
        var results = await Task.WhenAll(requests.Select(r => Collect(generator, r.Prompt, r.Options)));
        for (int i = 0; i < requests.Length; i++)
        {
            AssertSame(expected[i], results[i].Result, $"generation {i}");
        }

        Assert.Contains(expected, e => e.PromptTokenCount + e.Tokens.Count > 32);
    }

    [Fact]
    public async Task ACancelledGenerationFreesItsPlaceForTheNextInTheQueue()
    {
        using var model = BatchTestModels.Gpt2Vocabulary();
        var endless = new GenerationOptions { Temperature = 0, MaxTokens = 100_000, StopAtEndOfText = false };
        var quick = new GenerationOptions { Temperature = 0, MaxTokens = 5 };
        using var generator = model.CreateBatchGenerator(maxBatchSize: 1, maxQueueLength: 1);
        generator.StepDelay = TimeSpan.FromMilliseconds(5);
        using var cancel = new CancellationTokenSource();
        await using var first = generator.GenerateAsync(Prompt(model, 1, 3), endless, cancel.Token).GetAsyncEnumerator();
        Assert.True(await first.MoveNextAsync());
        Assert.Equal(1, generator.ActiveCount);

        var queued = Collect(generator, Prompt(model, 2, 3), quick);
        await WaitUntil(() => generator.QueuedCount == 1);
        var full = await Assert.ThrowsAsync<GenerationQueueFullException>(() => Collect(generator, Prompt(model, 3, 3), quick));
        Assert.Equal(1, full.MaxBatchSize);
        Assert.Equal(1, full.MaxQueueLength);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            while (await first.MoveNextAsync())
            {
            }
        });
        var second = await queued.WaitAsync(Patience);
        Assert.Equal(FinishReason.Length, second.Result.FinishReason);
        Assert.Equal(5, second.Result.Tokens.Count);
        await WaitUntil(() => generator.ActiveCount == 0);
    }

    [Fact]
    public async Task StoppingTheEnumerationFreesThePlaceAndAQueuedGenerationCanLeaveTheQueue()
    {
        using var model = BatchTestModels.Gpt2Vocabulary();
        var endless = new GenerationOptions { Temperature = 0, MaxTokens = 100_000, StopAtEndOfText = false };
        using var generator = model.CreateBatchGenerator(maxBatchSize: 1, maxQueueLength: 2);
        generator.StepDelay = TimeSpan.FromMilliseconds(5);
        var first = generator.GenerateAsync(Prompt(model, 1, 3), endless).GetAsyncEnumerator();
        Assert.True(await first.MoveNextAsync());

        using var leave = new CancellationTokenSource();
        var waiting = Collect(generator, Prompt(model, 2, 3), endless, leave.Token);
        await WaitUntil(() => generator.QueuedCount == 1);
        await leave.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, generator.QueuedCount);
        Assert.Equal(1, generator.ActiveCount);

        await first.DisposeAsync();
        await WaitUntil(() => generator.ActiveCount == 0);
        var after = await Collect(generator, Prompt(model, 3, 3), new GenerationOptions { Temperature = 0, MaxTokens = 3 }).WaitAsync(Patience);
        Assert.Equal(3, after.Result.Tokens.Count);
    }

    [Fact]
    public async Task TheModelIsFreeForItsOtherOperationsWhenTheGeneratorIsIdle()
    {
        using var model = BatchTestModels.Gpt2Vocabulary();
        var options = new GenerationOptions { Temperature = 0, MaxTokens = 4 };
        using var generator = model.CreateBatchGenerator();
        await Collect(generator, Prompt(model, 1, 3), options);
        var alone = Task.Run(() => model.GenerateFromTokens(Prompt(model, 1, 3), options));
        Assert.Equal(4, (await alone.WaitAsync(Patience)).Tokens.Count);
    }

    [Fact]
    public async Task DisposingTheGeneratorEndsItsGenerations()
    {
        using var model = BatchTestModels.Gpt2Vocabulary();
        var endless = new GenerationOptions { Temperature = 0, MaxTokens = 100_000, StopAtEndOfText = false };
        var generator = model.CreateBatchGenerator(maxBatchSize: 1);
        generator.StepDelay = TimeSpan.FromMilliseconds(5);
        var running = Collect(generator, Prompt(model, 1, 3), endless);
        var queued = Collect(generator, Prompt(model, 2, 3), endless);
        await WaitUntil(() => generator.ActiveCount == 1 && generator.QueuedCount == 1);
        generator.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => running.WaitAsync(Patience));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => queued.WaitAsync(Patience));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Collect(generator, Prompt(model, 3, 3), endless));

        // The model is whole and free.
        Assert.Equal(2, model.GenerateFromTokens(Prompt(model, 1, 3), new GenerationOptions { MaxTokens = 2, StopAtEndOfText = false }).Tokens.Count);
    }

    [Fact]
    public async Task BadArgumentsNameTheParameter()
    {
        using var model = BatchTestModels.Gpt2Vocabulary();
        Assert.Equal("maxBatchSize", Assert.Throws<ArgumentOutOfRangeException>(() => model.CreateBatchGenerator(0)).ParamName);
        Assert.Equal("maxQueueLength", Assert.Throws<ArgumentOutOfRangeException>(() => model.CreateBatchGenerator(1, -1)).ParamName);
        using var generator = model.CreateBatchGenerator();
        Assert.Equal("promptTokens", (await Assert.ThrowsAsync<ArgumentException>(() => Collect(generator, [], new GenerationOptions()))).ParamName);
        Assert.Equal("promptTokens", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Collect(generator, [50257], new GenerationOptions()))).ParamName);
        Assert.Equal("Temperature", (await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Collect(generator, [1], new GenerationOptions { Temperature = -1 }))).ParamName);
        Assert.Equal(0, generator.ActiveCount + generator.QueuedCount);
    }

    [Fact]
    public void AChatPromptIsWhatTheChatClientSends()
    {
        using var model = BatchTestModels.Gpt2Vocabulary(blockSize: 256);
        ChatMessage[] conversation = [new(ChatRole.System, "Be brief."), new(ChatRole.User, "Hello there"), new(ChatRole.Assistant, "Hi."), new(ChatRole.User, "How are you?")];
        var (prompt, _) = new GptChatClient(model).Prepare(conversation, new ChatOptions { MaxOutputTokens = 10 });
        Assert.Equal(prompt, model.EncodeChatPrompt(conversation));
        Assert.Equal(ChatTemplate.Transcript.Render(conversation), model.Tokenizer!.Decode(model.EncodeChatPrompt(conversation)[1..]));

        using var characters = BatchTestModels.Characters();
        var bad = Assert.Throws<ArgumentException>(() => characters.EncodeChatPrompt([new(ChatRole.User, "caf\u00e9")]));
        Assert.Equal("messages", bad.ParamName);
    }

    private static int[] Prompt(GptModel model, int seed, int length)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, length).Select(_ => rng.Next(model.Config.VocabSize - 1))];
    }

    private static async Task<(GenerationResult Result, string Streamed)> Collect(GptBatchGenerator generator, int[] prompt, GenerationOptions options,
        CancellationToken cancellationToken = default)
    {
        var text = new System.Text.StringBuilder();
        GenerationResult? result = null;
        await foreach (var update in generator.GenerateAsync(prompt, options, cancellationToken))
        {
            text.Append(update.Text);
            result = update.Result ?? result;
        }

        return (result!, text.ToString());
    }

    private static void AssertSame(GenerationResult expected, GenerationResult actual, string what)
    {
        Assert.True(expected.Tokens.SequenceEqual(actual.Tokens), $"{what}: tokens [{string.Join(',', actual.Tokens)}], alone [{string.Join(',', expected.Tokens)}]");
        Assert.Equal(expected.Text, actual.Text);
        Assert.Equal(expected.FinishReason, actual.FinishReason);
        Assert.Equal(expected.PromptTokenCount, actual.PromptTokenCount);
        Assert.Equal(expected.OutputTokenCount, actual.OutputTokenCount);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the generator");
            await Task.Delay(5);
        }
    }
}
