using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace SharpGpt.Server.OpenAi;

/// <summary><c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>: the one model served, with its context window
/// (<c>max_model_len</c>, as vLLM reports it); and <c>GET /health</c>: the server is up, with its batch and queue.</summary>
internal static class ModelEndpoints
{
    public static Task ListAsync(HttpContext http, ServerState state) =>
        WriteJsonAsync(http, new JsonObject { ["object"] = "list", ["data"] = new JsonArray(Model(state)) });

    public static Task GetAsync(HttpContext http, ServerState state, string id) =>
        id == state.Options.ModelId ? WriteJsonAsync(http, Model(state))
        : throw new ApiError(404, $"The model '{id}' does not exist; this server serves '{state.Options.ModelId}'.", "model", "model_not_found");

    public static Task HealthAsync(HttpContext http, ServerState state) => WriteJsonAsync(http, new JsonObject
    {
        ["status"] = "ok",
        ["model"] = state.Options.ModelId,
        ["active"] = state.Generator.ActiveCount,
        ["queued"] = state.Generator.QueuedCount,
        ["max_batch"] = state.Generator.MaxBatchSize,
        ["max_queue"] = state.Generator.MaxQueueLength,
    });

    public static async Task WriteJsonAsync(HttpContext http, JsonObject json)
    {
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(Json.Write(json), http.RequestAborted).ConfigureAwait(false);
    }

    private static JsonObject Model(ServerState state) => new()
    {
        ["id"] = state.Options.ModelId,
        ["object"] = "model",
        ["created"] = state.Created,
        ["owned_by"] = "sharpgpt",
        ["max_model_len"] = state.Model.Config.MaxSeqLen,
    };
}
