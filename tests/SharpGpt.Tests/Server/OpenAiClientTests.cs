using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using SharpGpt.Server;
using SharpGpt.Tests.Inference;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;
using ChatRole = Microsoft.Extensions.AI.ChatRole;

namespace SharpGpt.Tests.Server;

/// <summary>The server through the official OpenAI .NET client (NuGet OpenAI), pointed at its base URL as an
/// application would point it: the replies are the model's, as the library's own chat client gives them.</summary>
public sealed class OpenAiClientTests : IAsyncLifetime
{
    private const string Key = "test-key-123";
    private GptModel _model = null!;
    private RunningServer _server = null!;

    public async Task InitializeAsync()
    {
        _model = BatchTestModels.Gpt2Vocabulary(blockSize: 256);
        _server = await RunningServer.StartAsync(_model, new GptServerOptions { ModelId = "tiny-gpt", ApiKey = Key });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _model.Dispose();
    }

    [Fact]
    public async Task AChatCompletionIsTheModelsReply()
    {
        var reply = await Client().GetChatClient("tiny-gpt").CompleteChatAsync(
            [new SystemChatMessage("Answer briefly."), new UserChatMessage("What is the capital of France?")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 });

        var expected = await ExpectedAsync("Answer briefly.", "What is the capital of France?", 12);
        Assert.NotEmpty(expected.Text);
        Assert.Equal(expected.Text, reply.Value.Content[0].Text);
        Assert.Equal(ChatMessageRole.Assistant, reply.Value.Role);
        Assert.Equal("tiny-gpt", reply.Value.Model);
        Assert.StartsWith("chatcmpl-", reply.Value.Id);
        Assert.Equal(expected.Usage!.InputTokenCount, reply.Value.Usage.InputTokenCount);
        Assert.Equal(expected.Usage.OutputTokenCount, reply.Value.Usage.OutputTokenCount);
        Assert.Equal(expected.FinishReason == Microsoft.Extensions.AI.ChatFinishReason.Length ? OpenAI.Chat.ChatFinishReason.Length : OpenAI.Chat.ChatFinishReason.Stop,
            reply.Value.FinishReason);
    }

    [Fact]
    public async Task AStreamedChatCompletionArrivesInPiecesThatMakeTheReply()
    {
        var pieces = new List<string>();
        OpenAI.Chat.ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Client().GetChatClient("tiny-gpt").CompleteChatStreamingAsync(
            [new UserChatMessage("Tell me a story.")], new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 30 }))
        {
            pieces.AddRange(update.ContentUpdate.Select(part => part.Text));
            finish = update.FinishReason ?? finish;
            usage = update.Usage ?? usage;
        }

        var expected = await ExpectedAsync(null, "Tell me a story.", 30);
        Assert.True(pieces.Count(p => p.Length > 0) > 1, "the reply should come in several pieces");
        Assert.Equal(expected.Text, string.Concat(pieces).TrimEnd());
        Assert.NotNull(finish);
        Assert.NotNull(usage);
        Assert.Equal(expected.Usage!.OutputTokenCount, usage.OutputTokenCount);
        Assert.Equal(expected.Usage.InputTokenCount, usage.InputTokenCount);
    }

    /// <summary>OpenAI's .NET client has no public client for the legacy /v1/completions endpoint (LegacyCompletionClient is
    /// internal in 2.15), so the request goes through the official client's own pipeline: its endpoint, key and retries.</summary>
    [Fact]
    public async Task ACompletionIsTheModelsContinuation()
    {
        var client = Client();
        using var message = client.Pipeline.CreateMessage();
        message.Request.Method = "POST";
        message.Request.Uri = new Uri(_server.V1 + "/completions");
        message.Request.Headers.Set("Content-Type", "application/json");
        message.Request.Content = BinaryContent.Create(BinaryData.FromObjectAsJson(new { model = "tiny-gpt", prompt = "Once upon a time", max_tokens = 10, temperature = 0 }));
        message.ResponseClassifier = PipelineMessageClassifier.Create(stackalloc ushort[] { 200 });
        await client.Pipeline.SendAsync(message);

        var body = JsonDocument.Parse(message.Response!.Content.ToString()).RootElement;
        var expected = _model.Generate("Once upon a time", new GenerationOptions { Temperature = 0, MaxTokens = 10 });
        Assert.NotEmpty(expected.Text);
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        Assert.Equal(expected.Text, body.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(expected.OutputTokenCount, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(expected.PromptTokenCount, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task ABadRequestIsAClientErrorNamingTheField()
    {
        var chat = Client().GetChatClient("tiny-gpt");
        var error = await Assert.ThrowsAsync<ClientResultException>(() =>
            chat.CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { Temperature = 2.5f }));
        Assert.Equal(400, error.Status);
        Assert.Contains("'temperature'", error.Message);

        var tooLong = await Assert.ThrowsAsync<ClientResultException>(() =>
            chat.CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 1000 }));
        Assert.Equal(400, tooLong.Status);
        Assert.Contains("maximum context length is 256 tokens", tooLong.Message);

        var unknown = await Assert.ThrowsAsync<ClientResultException>(() => Client().GetChatClient("gpt-4o").CompleteChatAsync([new UserChatMessage("Hi")]));
        Assert.Equal(404, unknown.Status);
        Assert.Contains("'gpt-4o' does not exist", unknown.Message);

        var wrongKey = await Assert.ThrowsAsync<ClientResultException>(() => Client("not-the-key").GetChatClient("tiny-gpt").CompleteChatAsync([new UserChatMessage("Hi")]));
        Assert.Equal(401, wrongKey.Status);
        Assert.Contains("Authorization", wrongKey.Message);
    }

    [Fact]
    public async Task TheModelIsListed()
    {
        var models = await Client().GetOpenAIModelClient().GetModelsAsync();
        Assert.Equal("tiny-gpt", Assert.Single(models.Value).Id);
        Assert.Equal("tiny-gpt", (await Client().GetOpenAIModelClient().GetModelAsync("tiny-gpt")).Value.Id);
    }

    private OpenAIClient Client(string key = Key) =>
        new(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = _server.V1, NetworkTimeout = TimeSpan.FromSeconds(60) });

    /// <summary>The reply the library's own IChatClient gives, greedy: what the server must answer.</summary>
    private async Task<ChatResponse> ExpectedAsync(string? system, string user, int maxTokens)
    {
        List<ChatMessage> messages = system is null ? [] : [new(ChatRole.System, system)];
        messages.Add(new(ChatRole.User, user));
        await _server.WaitUntilIdleAsync();
        return await _model.AsChatClient().GetResponseAsync(messages, new ChatOptions { Temperature = 0, MaxOutputTokens = maxTokens });
    }
}
