using System.Net.Http.Json;
using System.Text.Json;
using SharpGpt.Server;

namespace SharpGpt.Tests.Server;

/// <summary>A server started for a test on 127.0.0.1 with a free port, with an HttpClient pointed at it. It does not
/// own the model.</summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private RunningServer(GptServer server)
    {
        Server = server;
        // A response disposed before its end closes the connection, as a client that goes away does (by default the
        // handler would read on for up to 2 s to keep the connection, and the server would see no disconnect).
        Http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public GptServer Server { get; }

    public HttpClient Http { get; }

    /// <summary>The OpenAI base URL: http://127.0.0.1:PORT/v1.</summary>
    public Uri V1 => new(Server.BaseAddress, "v1");

    public GptBatchGenerator Generator => Server.Generator;

    public static async Task<RunningServer> StartAsync(GptModel model, GptServerOptions? options = null) =>
        new(await GptServer.StartAsync(model, (options ?? new GptServerOptions()) with { Host = "127.0.0.1", Port = 0 }));

    public async Task<(int Status, JsonElement Body)> PostAsync(string path, object body)
    {
        using var response = await Http.PostAsJsonAsync(path, body);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    public async Task<(int Status, JsonElement Body)> PostRawAsync(string path, string body)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(path, content);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    public async Task<(int Status, JsonElement Body)> GetAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    /// <summary>Waits until the server's batch and queue are empty (its /health says so).</summary>
    public async Task WaitUntilIdleAsync(TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? TimeSpan.FromSeconds(30));
        while (Generator.ActiveCount + Generator.QueuedCount > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the server is still busy: {Generator.ActiveCount} active, {Generator.QueuedCount} queued");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
