using SharpGpt.Data;
using SharpGpt.Inference;
using SharpGpt.Model;

namespace SharpGpt.Tests.Api;

/// <summary>Generation through the public API: the same tokens as the decoder and sampler underneath, streaming in
/// whole characters, stop sequences, the end-of-text token, cancellation.</summary>
public sealed class GenerationTests
{
    [Fact]
    public void Generate_draws_the_tokens_of_the_decoder_and_sampler_beneath_it()
    {
        using var model = ApiModels.Characters(seed: 11);
        int[] prompt = model.Tokenizer!.Encode("to be");
        var options = new GenerationOptions { MaxTokens = 40, Temperature = 0.8f, TopK = 10, Seed = 42 };
        var result = model.GenerateFromTokens(prompt, options);

        using var decoder = new KvCacheDecoder(model.Network);
        var sampler = new Sampler(decoder, new SamplingOptions(10, 0.8f, 42));
        int[] expected = sampler.Generate(prompt, 40);
        Assert.Equal(expected, result.Tokens);
        Assert.Equal(model.Tokenizer.Decode(expected), result.Text);
        Assert.Equal(prompt.Length, result.PromptTokenCount);
        Assert.Equal(40, result.OutputTokenCount);
        Assert.Equal(FinishReason.Length, result.FinishReason);
    }

    [Fact]
    public async Task Streaming_gives_the_text_of_generate_in_whole_characters()
    {
        // A GPT-2-vocabulary model with random weights draws byte tokens that split UTF-8 characters often.
        using var model = ApiModels.Gpt2Vocabulary(seed: 4);
        var options = new GenerationOptions { MaxTokens = 200, Temperature = 1.5f, TopK = 0, Seed = 8 };
        var whole = model.Generate("Ünïcödé 😀", options);

        var pieces = new List<string>();
        await foreach (var piece in model.GenerateStreamingAsync("Ünïcödé 😀", options))
        {
            pieces.Add(piece);
        }

        Assert.Equal(whole.Text, string.Concat(pieces));
        // Each prefix of the stream is a prefix of the final text: no piece showed half a character as U+FFFD.
        string shown = "";
        foreach (var piece in pieces)
        {
            Assert.NotEmpty(piece);
            shown += piece;
            Assert.StartsWith(shown, whole.Text, StringComparison.Ordinal);
            Assert.False(char.IsHighSurrogate(shown[^1]), "a piece ended inside a surrogate pair");
        }

        int splitCharacters = Enumerable.Range(0, whole.Tokens.Count).Count(i => GptTokenizer.Gpt2.Decode(whole.Tokens.Skip(i).Take(1).ToArray()).Contains('\uFFFD'));
        Assert.True(splitCharacters > 0, "the sample never split a character, so the test proved nothing");
    }

    [Fact]
    public void A_character_split_across_tokens_is_held_until_its_last_byte()
    {
        int[] tokens = GptTokenizer.Gpt2.Encode("😀");
        Assert.True(tokens.Length > 1);
        var stream = new TokenTextStream(GptTokenizer.Gpt2);
        var shown = tokens.Select(stream.Add).ToList();
        Assert.All(shown.SkipLast(1), piece => Assert.Equal("", piece));
        Assert.Equal("😀", shown[^1]);
        Assert.Equal("", stream.Flush());
    }

    [Fact]
    public async Task A_stop_sequence_ends_the_text_before_it_in_both_forms()
    {
        using var model = ApiModels.Characters(seed: 3);
        var greedy = new GenerationOptions { MaxTokens = 60, Temperature = 0 };
        string free = model.Generate("ab", greedy).Text;
        string stop = free.Substring(20, 3);
        int at = free.IndexOf(stop, StringComparison.Ordinal);

        var stopped = model.Generate("ab", greedy with { StopSequences = [stop, "never appears!"] });
        Assert.Equal(free[..at], stopped.Text);
        Assert.Equal(FinishReason.StopSequence, stopped.FinishReason);

        var streamed = new List<string>();
        await foreach (var piece in model.GenerateStreamingAsync("ab", greedy with { StopSequences = [stop] }))
        {
            streamed.Add(piece);
        }

        Assert.Equal(free[..at], string.Concat(streamed));
    }

    [Fact]
    public void The_stop_filter_holds_back_what_may_become_a_stop_sequence()
    {
        var filter = new StopSequenceFilter(["\n\nUser:"]);
        Assert.Equal("Hello", filter.Push("Hello\n"));
        Assert.Equal("", filter.Push("\nUs"));
        Assert.Equal("\n\nUsually", filter.Push("ually"));
        Assert.Equal(" fine", filter.Push(" fine\n\nUser: next"));
        Assert.True(filter.Stopped);
        Assert.Equal("", filter.Push("more"));
        Assert.Equal("", filter.Flush());

        var open = new StopSequenceFilter(["END"]);
        Assert.Equal("abc", open.Push("abcE"));
        Assert.Equal("E", open.Flush());
    }

    [Fact]
    public void The_end_of_text_token_ends_a_generation_unless_asked_not_to()
    {
        using var model = ApiModels.Gpt2Vocabulary(seed: 6);
        ForceNextToken(model.Network, Gpt2Tokenizer.EndOfText);
        var ended = model.Generate("Once", new GenerationOptions { MaxTokens = 10, Temperature = 0 });
        Assert.Equal(FinishReason.EndOfText, ended.FinishReason);
        Assert.Empty(ended.Tokens);
        Assert.Equal("", ended.Text);
        Assert.Equal(1, ended.OutputTokenCount);

        var going = model.Generate("Once", new GenerationOptions { MaxTokens = 3, Temperature = 0, StopAtEndOfText = false });
        Assert.Equal([Gpt2Tokenizer.EndOfText, Gpt2Tokenizer.EndOfText, Gpt2Tokenizer.EndOfText], going.Tokens);
        Assert.Equal(string.Concat(Enumerable.Repeat("<|endoftext|>", 3)), going.Text);
    }

    [Fact]
    public void Nucleus_sampling_keeps_only_the_most_likely_tokens_that_reach_p()
    {
        using var model = ApiModels.Characters(seed: 12);
        using var decoder = new KvCacheDecoder(model.Network);
        var logits = new float[model.Config.VocabSize];
        logits[5] = 10f;    // p = 0.45 against 60-odd tokens at 0
        logits[9] = 9.5f;   // p = 0.27 each
        logits[2] = 9.5f;
        var drawn = new HashSet<int>();
        var sampler = new Sampler(decoder, new SamplingOptions(TopK: 0, Temperature: 1f, Seed: 1, TopP: 0.6f));
        for (int i = 0; i < 300; i++)
        {
            drawn.Add(sampler.Next(logits));
        }

        // 5 alone is under 0.6; with the first of the tied 9.5s (the lower id, 2) it reaches it.
        Assert.Equal([2, 5], drawn.Order());
        var wide = new Sampler(decoder, new SamplingOptions(TopK: 0, Temperature: 1f, Seed: 1, TopP: 1f));
        Assert.Contains(9, Enumerable.Range(0, 300).Select(_ => wide.Next(logits)));
    }

    [Fact]
    public void Zero_tokens_is_an_empty_generation_and_options_out_of_range_name_themselves()
    {
        using var model = ApiModels.Characters();
        var none = model.Generate("abc", new GenerationOptions { MaxTokens = 0 });
        Assert.Equal("", none.Text);
        Assert.Equal(FinishReason.Length, none.FinishReason);
        Assert.Equal("MaxTokens", Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate("a", new GenerationOptions { MaxTokens = -1 })).ParamName);
        Assert.Equal("Temperature", Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate("a", new GenerationOptions { Temperature = float.NaN })).ParamName);
        Assert.Equal("TopP", Assert.Throws<ArgumentOutOfRangeException>(() => model.Generate("a", new GenerationOptions { TopP = 0 })).ParamName);
        Assert.Equal("StopSequences", Assert.Throws<ArgumentException>(() => model.Generate("a", new GenerationOptions { StopSequences = [""] })).ParamName);
        Assert.Equal("prompt", Assert.Throws<ArgumentException>(() => model.Generate("€")).ParamName);
        Assert.Equal("promptTokens", Assert.Throws<ArgumentOutOfRangeException>(() => model.GenerateFromTokens([model.Config.VocabSize])).ParamName);
    }

    [Fact]
    public async Task Cancelling_stops_between_tokens_and_gives_the_model_back()
    {
        using var model = ApiModels.Characters(seed: 7);
        using (var cancelled = new CancellationTokenSource())
        {
            await cancelled.CancelAsync();
            Assert.Throws<OperationCanceledException>(() => model.Generate("a", cancellationToken: cancelled.Token));
        }

        using var stop = new CancellationTokenSource();
        int pieces = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var piece in model.GenerateStreamingAsync("a", new GenerationOptions { MaxTokens = 100_000, TopK = 0 }, stop.Token))
            {
                if (++pieces == 3)
                {
                    await stop.CancelAsync();
                }
            }
        });
        Assert.InRange(pieces, 3, 5);

        // Leaving a stream early (break) ends its generation too; the model then serves the next call.
        await foreach (var piece in model.GenerateStreamingAsync("a", new GenerationOptions { MaxTokens = 100_000 }))
        {
            break;
        }

        Assert.Equal(5, model.Generate("a", new GenerationOptions { MaxTokens = 5, StopAtEndOfText = false }).Tokens.Count);
    }

    [Fact]
    public void An_empty_prompt_starts_from_the_start_token()
    {
        using var chars = ApiModels.Characters();
        Assert.Equal(chars.Tokenizer!.Encode("\n"), chars.EncodePrompt(""));
        using var gpt2 = ApiModels.Gpt2Vocabulary();
        Assert.Equal([Gpt2Tokenizer.EndOfText], gpt2.EncodePrompt(""));
        Assert.Equal(GptTokenizer.Gpt2.Encode("Hello world"), gpt2.EncodePrompt("Hello world"));
    }

    // Every position's final LayerNorm gives the same vector (gain 0, bias b), so the logits are wte·b: with the
    // token's embedding made long and b along it, that token wins at every position.
    private static unsafe void ForceNextToken(GptNetwork network, int token)
    {
        using var view = network.EditParameters();
        var p = new ParameterTensors(view.Pointer, network.Layout);
        int c = network.Config.Channels;
        float* row = p.Wte + ((long)token * c);
        for (int i = 0; i < c; i++)
        {
            row[i] *= 100;
            p.LnFW[i] = 0;
            p.LnFB[i] = row[i];
        }
    }
}
