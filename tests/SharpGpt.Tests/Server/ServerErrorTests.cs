using System.Net;
using System.Text;
using System.Text.Json;
using SharpGpt.Server;
using SharpGpt.Tests.Inference;

namespace SharpGpt.Tests.Server;

/// <summary>Every way a request can be turned down, through a plain HttpClient: the status, and OpenAI's error object
/// whose message and param name the field, header or limit at fault. The server goes on serving after each.</summary>
public sealed class ServerErrorTests : IAsyncLifetime
{
    private GptModel _model = null!;
    private RunningServer _server = null!;

    public async Task InitializeAsync()
    {
        _model = BatchTestModels.Gpt2Vocabulary(blockSize: 64);
        _server = await RunningServer.StartAsync(_model, new GptServerOptions { ModelId = "tiny", MaxRequestBodyBytes = 4096 });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _model.Dispose();
    }

    public static TheoryData<string, string, string?, string> BadRequests() => new()
    {
        // endpoint, body, the param named (null: none), a piece of the message
        { "chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}", null, "could not parse the JSON body" },
        { "chat/completions", "[1, 2]", null, "must be a JSON object" },
        { "chat/completions", "{}", "messages", "Missing required parameter: 'messages'" },
        { "chat/completions", "{\"messages\": []}", "messages", "at least one message" },
        { "chat/completions", "{\"messages\": \"hi\"}", "messages", "expected an array of messages, but got a string" },
        { "chat/completions", "{\"messages\": [{\"content\": \"hi\"}]}", "messages[0].role", "Missing required parameter" },
        { "chat/completions", "{\"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}", "messages[0].role", "'robot' is not a role" },
        { "chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}", "messages[0].content", "expected a string or an array of content parts" },
        { "chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"x\"}}]}]}", "messages[0].content[0].type", "reads text only" },
        { "chat/completions", Chat("\"temperature\": \"hot\""), "temperature", "Invalid type for 'temperature': expected a number, but got a string" },
        { "chat/completions", Chat("\"temperature\": 2.5"), "temperature", "from 0 to 2, got 2.5" },
        { "chat/completions", Chat("\"top_p\": 0"), "top_p", "greater than 0 and at most 1" },
        { "chat/completions", Chat("\"top_k\": -2"), "top_k", "from -1 to" },
        { "chat/completions", Chat("\"max_tokens\": 0"), "max_tokens", "from 1 to" },
        { "chat/completions", Chat("\"max_completion_tokens\": 2.5"), "max_completion_tokens", "expected an integer" },
        { "chat/completions", Chat("\"seed\": \"x\""), "seed", "expected an integer" },
        { "chat/completions", Chat("\"n\": 2"), "n", "'n' must be 1" },
        { "chat/completions", Chat("\"stop\": 7"), "stop", "a string or an array of strings" },
        { "chat/completions", Chat("\"stop\": [\"\"]"), "stop", "at most 16 stop sequences of 1 to 256 characters each" },
        { "chat/completions", Chat("\"stop\": [" + string.Join(", ", Enumerable.Range(0, 17).Select(i => $"\"s{i}\"")) + "]"), "stop", "at most 16 stop sequences" },
        { "chat/completions", Chat("\"stop\": \"" + new string('x', 257) + "\""), "stop", "1 to 256 characters" },
        { "chat/completions", Chat("\"stream\": \"yes\""), "stream", "expected a boolean" },
        { "chat/completions", Chat("\"logprobs\": true"), "logprobs", "log-probabilities" },
        { "chat/completions", Chat("\"frequency_penalty\": 0.5"), "frequency_penalty", "no repetition penalties" },
        { "chat/completions", Chat("\"logit_bias\": {\"50256\": -100}"), "logit_bias", "does not bias logits" },
        { "chat/completions", Chat("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}]"), "tools", "cannot call tools" },
        { "chat/completions", Chat("\"response_format\": {\"type\": \"json_object\"}"), "response_format", "plain text only" },
        { "chat/completions", Chat("\"max_tokens\": 60"), "messages", "maximum context length is 64 tokens" },
        { "chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"" + string.Concat(Enumerable.Repeat("word ", 70)) + "\"}]}", "messages", "maximum context length is 64 tokens" },
        { "completions", "{\"prompt\": 5}", "prompt", "expected a string, an array of token ids" },
        { "completions", "{\"prompt\": []}", "prompt", "the array is empty" },
        { "completions", "{\"prompt\": [\"a\", \"b\"]}", "prompt", "one prompt per request" },
        { "completions", "{\"prompt\": [1, 2, 60000]}", "prompt[2]", "token id 60000 is outside the model's vocabulary [0, 50257)" },
        { "completions", "{\"prompt\": \"hi\", \"max_tokens\": 64}", "prompt", "maximum context length is 64 tokens. However, you requested 65 tokens (1 in the prompt, 64 in the completion)" },
        { "completions", "{\"prompt\": \"hi\", \"echo\": true}", "echo", "does not echo" },
        { "completions", "{\"prompt\": \"hi\", \"best_of\": 3}", "best_of", "'best_of' must be 1" },
        { "completions", "{\"prompt\": \"hi\", \"logprobs\": 2}", "logprobs", "log-probabilities" },
        { "completions", "{\"prompt\": \"hi\", \"suffix\": \"end\"}", "suffix", "suffix" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task ABadRequestIsA400NamingTheField(string endpoint, string body, string? param, string message)
    {
        var (status, error) = await _server.PostRawAsync("v1/" + endpoint, body);
        Assert.Equal(400, status);
        AssertError(error, "invalid_request_error", param, message);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task AnotherModelIsA404()
    {
        var (status, error) = await _server.PostAsync("v1/chat/completions", new { model = "gpt-4o", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(404, status);
        AssertError(error, "invalid_request_error", "model", "The model 'gpt-4o' does not exist; this server serves 'tiny'");
        Assert.Equal(404, (await _server.GetAsync("v1/models/gpt-4o")).Status);
    }

    [Theory]
    [InlineData("GET", "v1/chat/completions")]
    [InlineData("POST", "v1/models")]
    [InlineData("GET", "v1/embeddings")]
    [InlineData("GET", "nothing/here")]
    public async Task AnUnknownUrlIsA404NamingIt(string method, string path)
    {
        using var response = await _server.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        AssertError(error, "invalid_request_error", null, $"Unknown request URL: {method} /{path}");
    }

    [Fact]
    public async Task ABodyOverTheLimitIsA413WhetherItsLengthIsSaidOrNot()
    {
        string big = Chat("\"user\": \"" + new string('x', 5000) + "\"");
        var (status, error) = await _server.PostRawAsync("v1/chat/completions", big);
        Assert.Equal(413, status);
        AssertError(error, "invalid_request_error", null, "larger than this server's limit of 4096 bytes");

        // Chunked: no Content-Length, so the limit is found while reading.
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await _server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("4096 bytes", await response.Content.ReadAsStringAsync());
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task AStreamIsServerSentEventsInOpenAisChunkFormatEndingWithDone()
    {
        using var response = await _server.Http.PostAsync("v1/chat/completions", Json(Chat("\"stream\": true, \"max_tokens\": 8, \"temperature\": 0, \"ignore_eos\": true")));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        string[] events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToArray();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var last = chunks[^1];
        Assert.Equal("length", last.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(8, last.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        // stream_options.include_usage: the usage comes in a chunk of its own, with no choices, before [DONE].
        using var withUsage = await _server.Http.PostAsync("v1/completions",
            Json("{\"prompt\": \"Hello\", \"stream\": true, \"max_tokens\": 5, \"ignore_eos\": true, \"stream_options\": {\"include_usage\": true}}"));
        string[] usageEvents = (await withUsage.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var usageChunk = JsonDocument.Parse(usageEvents[^2]["data: ".Length..]).RootElement;
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        Assert.Equal(5, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("text_completion", usageChunk.GetProperty("object").GetString());
    }

    [Fact]
    public async Task TheModelsAndHealthAreListed()
    {
        var (status, models) = await _server.GetAsync("v1/models");
        Assert.Equal(200, status);
        var model = Assert.Single(models.GetProperty("data").EnumerateArray().ToArray());
        Assert.Equal("tiny", model.GetProperty("id").GetString());
        Assert.Equal(64, model.GetProperty("max_model_len").GetInt32());
        var (healthStatus, health) = await _server.GetAsync("health");
        Assert.Equal(200, healthStatus);
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal(0, health.GetProperty("active").GetInt32());

        // Without /v1 too, as llama.cpp's server takes them.
        Assert.Equal(200, (await _server.GetAsync("models")).Status);
    }

    [Fact]
    public async Task TheChatPageIsServedAtTheRoot()
    {
        using var response = await _server.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        string page = await response.Content.ReadAsStringAsync();
        Assert.Contains("/v1/chat/completions", page);
        Assert.DoesNotContain("http://", page.Replace("http://www.w3.org", "", StringComparison.Ordinal)); // nothing from a CDN
        Assert.DoesNotContain("https://", page);
    }

    [Fact]
    public async Task AnApiKeyIsNeededForEveryRequestButThePage()
    {
        await using var locked = await RunningServer.StartAsync(_model, new GptServerOptions { ApiKey = "s3cret" });
        foreach (string? header in new[] { null, "Bearer wrong", "s3cret", "Basic czNjcmV0" })
        {
            foreach (var (method, path) in new[] { ("GET", "health"), ("GET", "v1/models"), ("POST", "v1/chat/completions"), ("GET", "v1/unknown") })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (header is not null)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", header);
                }

                using var response = await locked.Http.SendAsync(request);
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                AssertError(error, "invalid_request_error", null, "Authorization");
                Assert.Equal(header is null ? "missing_api_key" : "invalid_api_key", error.GetProperty("error").GetProperty("code").GetString());
            }
        }

        locked.Http.DefaultRequestHeaders.Authorization = new("Bearer", "s3cret");
        Assert.Equal(200, (await locked.GetAsync("health")).Status);
        var (status, reply) = await locked.PostAsync("v1/completions", new { prompt = "Hi", max_tokens = 2 });
        Assert.Equal(200, status);
        Assert.Equal("text_completion", reply.GetProperty("object").GetString());
        locked.Http.DefaultRequestHeaders.Authorization = null;
        using var page = await locked.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task AFullQueueIsA429AndTheServerServesAgainOnceItEmpties()
    {
        await using var small = await RunningServer.StartAsync(_model, new GptServerOptions { MaxBatchSize = 1, MaxQueueLength = 0 });
        small.Generator.StepDelay = TimeSpan.FromMilliseconds(20);
        using var stop = new CancellationTokenSource();
        using var streaming = await small.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "v1/completions")
        {
            Content = Json("{\"prompt\": \"Hi\", \"max_tokens\": 60, \"stream\": true, \"ignore_eos\": true}"),
        }, HttpCompletionOption.ResponseHeadersRead, stop.Token);
        Assert.Equal(HttpStatusCode.OK, streaming.StatusCode);

        using var busy = await small.Http.PostAsync("v1/completions", Json("{\"prompt\": \"Hi\", \"max_tokens\": 2}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, busy.StatusCode);
        Assert.Equal("1", busy.Headers.GetValues("Retry-After").Single());
        var error = JsonDocument.Parse(await busy.Content.ReadAsStringAsync()).RootElement;
        AssertError(error, "rate_limit_error", null, "1 requests are being decoded (the batch size) and 0 are waiting (the queue length)");

        await stop.CancelAsync();
        streaming.Dispose();
        await small.WaitUntilIdleAsync();
        Assert.Equal(200, (await small.PostAsync("v1/completions", new { prompt = "Hi", max_tokens = 2 })).Status);
    }

    [Fact]
    public async Task AFailingGenerationIsA500AndTheServerStaysUp()
    {
        // A model disposed under the server: its generator fails every generation, and the server says so.
        var doomed = BatchTestModels.Gpt2Vocabulary(blockSize: 64);
        await using var server = await RunningServer.StartAsync(doomed);
        doomed.Dispose();
        var (status, error) = await server.PostAsync("v1/completions", new { prompt = new[] { 1, 2, 3 }, max_tokens = 2 });
        Assert.Equal(500, status);
        AssertError(error, "server_error", null, "The server had an error while processing your request: ObjectDisposedException");
        Assert.Equal(200, (await server.GetAsync("health")).Status);
    }

    [Fact]
    public async Task StoppingTheServerEndsAStreamWithAnErrorEventAndDone()
    {
        var server = await RunningServer.StartAsync(_model);
        await using (server)
        {
            server.Generator.StepDelay = TimeSpan.FromMilliseconds(20);
            using var response = await server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "v1/completions")
            {
                Content = Json("{\"prompt\": \"Hi\", \"max_tokens\": 60, \"stream\": true, \"ignore_eos\": true}"),
            }, HttpCompletionOption.ResponseHeadersRead);
            using var events = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: {", await events.ReadLineAsync());

            var stopping = server.Server.StopAsync();
            string rest = await events.ReadToEndAsync();
            await stopping.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Contains("\"code\":\"server_shutting_down\"", rest);
            Assert.EndsWith("data: [DONE]\n\n", rest);
        }
    }

    private static string Chat(string extra) => "{\"messages\": [{\"role\": \"user\", \"content\": \"Hello there\"}], " + extra + "}";

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static void AssertError(JsonElement body, string type, string? param, string message)
    {
        var error = body.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").ValueKind == JsonValueKind.Null ? null : error.GetProperty("param").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.True(error.TryGetProperty("code", out _));
    }

    private async Task AssertStillServingAsync()
    {
        var (status, reply) = await _server.PostAsync("v1/completions", new { prompt = "Hi", max_tokens = 3, ignore_eos = true });
        Assert.Equal(200, status);
        Assert.Equal(3, reply.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }
}
