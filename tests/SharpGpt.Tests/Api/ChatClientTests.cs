using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using SharpGpt.Tests.Data;

namespace SharpGpt.Tests.Api;

/// <summary>A model as a Microsoft.Extensions.AI IChatClient: the transcript template, ChatOptions, usage,
/// streaming, cancellation and dependency injection.</summary>
public sealed class ChatClientTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new(ChatRole.System, "You are terse."),
        new(ChatRole.User, "Name a colour."),
        new(ChatRole.Assistant, "Blue."),
        new(ChatRole.User, "Another one?"),
    ];

    [Fact]
    public void The_transcript_renders_roles_blank_lines_and_the_assistants_cue()
    {
        Assert.Equal("System: You are terse.\n\nUser: Name a colour.\n\nAssistant: Blue.\n\nUser: Another one?\n\nAssistant:",
            ChatTemplate.Transcript.Render(Conversation));
        Assert.Equal("transcript", ChatTemplate.Transcript.Name);
        Assert.Same(ChatTemplate.Transcript, ChatTemplate.FromName("transcript"));
        Assert.Contains("\n\nUser:", ChatTemplate.Transcript.StopSequences);

        // The prompt's tokens: <|endoftext|>, then each piece tokenized on its own, ending with "Assistant:".
        var tokens = ChatTemplate.Transcript.PromptTokens(Conversation, GptTokenizer.Gpt2);
        Assert.Equal(50256, tokens[0]);
        Assert.Equal(ChatTemplate.Transcript.Render(Conversation), GptTokenizer.Gpt2.Decode([.. tokens.Skip(1)]));
        Assert.Equal(GptTokenizer.Gpt2.Encode("Assistant:"), tokens[^GptTokenizer.Gpt2.Encode("Assistant:").Length..]);
    }

    [Fact]
    public async Task A_response_is_the_models_continuation_of_the_transcript_with_usage()
    {
        using var model = ApiModels.Gpt2Vocabulary(seed: 21);
        IChatClient chat = model.AsChatClient(modelId: "tiny");
        var options = new ChatOptions { MaxOutputTokens = 12, Temperature = 0 };

        var response = await chat.GetResponseAsync(Conversation, options);

        var prompt = ChatTemplate.Transcript.PromptTokens(Conversation, GptTokenizer.Gpt2);
        var expected = model.GenerateFromTokens(prompt, new GenerationOptions { MaxTokens = 12, Temperature = 0, StopSequences = ChatTemplate.Transcript.StopSequences });
        Assert.Equal(ChatTemplate.CleanReply(expected.Text), response.Text);
        Assert.Equal(ChatRole.Assistant, response.Messages.Single().Role);
        Assert.Equal(prompt.Count, response.Usage!.InputTokenCount);
        Assert.Equal(expected.OutputTokenCount, response.Usage.OutputTokenCount);
        Assert.Equal(prompt.Count + expected.OutputTokenCount, response.Usage.TotalTokenCount);
        Assert.Equal(expected.FinishReason == FinishReason.Length ? ChatFinishReason.Length : ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("tiny", response.ModelId);
    }

    [Fact]
    public async Task Streaming_updates_add_up_to_the_response_and_end_with_its_usage()
    {
        using var model = ApiModels.Gpt2Vocabulary(seed: 22);
        IChatClient chat = model.AsChatClient();
        var options = new ChatOptions { MaxOutputTokens = 16, Temperature = 0.9f, Seed = 5, TopK = 20, TopP = 0.95f };

        var response = await chat.GetResponseAsync(Conversation, options);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync(Conversation, options))
        {
            updates.Add(update);
        }

        Assert.Equal(response.Text.TrimEnd(), string.Concat(updates.Select(u => u.Text)).TrimEnd());
        var usage = Assert.IsType<UsageContent>(updates[^1].Contents.Single());
        Assert.Equal(response.Usage!.OutputTokenCount, usage.Details.OutputTokenCount);
        Assert.NotNull(updates[^1].FinishReason);
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
    }

    [Fact]
    public async Task Chat_options_reach_the_generation()
    {
        using var model = ApiModels.Gpt2Vocabulary(seed: 23);
        IChatClient chat = model.AsChatClient();
        var seeded = new ChatOptions { MaxOutputTokens = 10, Temperature = 1.2f, TopK = 0, Seed = 77 };
        Assert.Equal((await chat.GetResponseAsync(Conversation, seeded)).Text, (await chat.GetResponseAsync(Conversation, seeded)).Text);
        var other = seeded.Clone();
        other.Seed = 78;
        var reseeded = await chat.GetResponseAsync(Conversation, other);
        var draws = new HashSet<string> { (await chat.GetResponseAsync(Conversation, seeded)).Text, reseeded.Text };
        Assert.Equal(2, draws.Count);

        var one = await chat.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 1 });
        Assert.Equal(1, one.Usage!.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, one.FinishReason);

        var free = await chat.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 30, Temperature = 0 });
        string stop = free.Text.Trim().Length > 6 ? free.Text.Trim().Substring(3, 3) : free.Text.Trim();
        var stopped = await chat.GetResponseAsync(Conversation, new ChatOptions { MaxOutputTokens = 30, Temperature = 0, StopSequences = [stop] });
        Assert.DoesNotContain(stop, stopped.Text);
        Assert.StartsWith(stopped.Text, free.Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => chat.GetResponseAsync(Conversation, new ChatOptions { Temperature = -1 }));
    }

    [Fact]
    public async Task Cancelling_a_chat_stops_it()
    {
        using var model = ApiModels.Gpt2Vocabulary(seed: 24);
        IChatClient chat = model.AsChatClient(new GenerationOptions { MaxTokens = 100_000, StopAtEndOfText = false });
        using var stop = new CancellationTokenSource();
        int updates = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var update in chat.GetStreamingResponseAsync(Conversation, null, stop.Token))
            {
                if (++updates == 2)
                {
                    await stop.CancelAsync();
                }
            }
        });
        Assert.InRange(updates, 2, 4);
    }

    [Fact]
    public async Task A_conversation_longer_than_the_block_drops_its_oldest_turns_but_keeps_the_system_message()
    {
        using var model = ApiModels.Gpt2Vocabulary(seed: 25); // block of 48 tokens
        var chat = model.AsChatClient();
        var conversation = new List<ChatMessage> { new(ChatRole.System, "Be brief.") };
        for (int i = 0; i < 10; i++)
        {
            conversation.Add(new ChatMessage(ChatRole.User, $"Question number {i}?"));
            conversation.Add(new ChatMessage(ChatRole.Assistant, $"Answer number {i}."));
        }

        conversation.Add(new ChatMessage(ChatRole.User, "Last question?"));
        var (prompt, generation) = chat.Prepare(conversation, new ChatOptions { MaxOutputTokens = 8 });
        Assert.InRange(prompt.Count, 1, 48 - 8);
        string text = GptTokenizer.Gpt2.Decode([.. prompt]);
        Assert.StartsWith("<|endoftext|>System: Be brief.", text);
        Assert.EndsWith("User: Last question?\n\nAssistant:", text);
        Assert.DoesNotContain("Question number 0", text);
        Assert.Equal(8, generation.MaxTokens);
        var response = await chat.GetResponseAsync(conversation, new ChatOptions { MaxOutputTokens = 8 });
        Assert.Equal(prompt.Count, response.Usage!.InputTokenCount);
    }

    [Fact]
    public async Task One_line_of_dependency_injection_makes_a_model_file_the_applications_chat_client()
    {
        using var temp = new TempDirectory();
        using (var model = ApiModels.Gpt2Vocabulary(seed: 26))
        {
            model.Save(temp.File("assistant.sgpt"));
        }

        var services = new ServiceCollection();
        services.AddGptChatClient(temp.File("assistant.sgpt"), new GptModelOptions { Device = ComputeDevice.Cpu, Threads = 1 });
        GptModel opened;
        await using (var provider = services.BuildServiceProvider())
        {
            var chat = provider.GetRequiredService<IChatClient>();
            var response = await chat.GetResponseAsync("Hello?", new ChatOptions { MaxOutputTokens = 4, Temperature = 0 });
            Assert.Equal("assistant", response.ModelId);
            Assert.Equal("sharpgpt", chat.GetService<ChatClientMetadata>()!.ProviderName);
            opened = chat.GetService<GptModel>()!;
            Assert.Same(provider.GetRequiredService<GptModel>(), opened);
        }

        Assert.Throws<ObjectDisposedException>(() => opened.Generate("a"));
    }
}
