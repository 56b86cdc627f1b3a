using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SharpGpt.Server.ChatPage;
using SharpGpt.Server.OpenAi;

namespace SharpGpt.Server;

/// <summary>
/// Every request: the chat page at <c>/</c>, the API key check for everything else, the endpoints (under <c>/v1</c>,
/// and also without it, as llama.cpp's server takes them), and every failure as OpenAI's JSON error object: a request
/// the server turns down gets its 4xx, anything else a 500, and nothing a request does ends the server or reaches
/// another request.
/// </summary>
internal static class RequestDispatcher
{
    public static async Task HandleAsync(HttpContext http, ServerState state)
    {
        try
        {
            string path = http.Request.Path.Value is { Length: > 1 } p ? p.TrimEnd('/') : "/";
            string method = http.Request.Method;
            if (HttpMethods.IsGet(method) && path is "/" or "/index.html")
            {
                // A browser cannot send a bearer token with a page load; the page holds nothing and asks for the key.
                await ChatPageFile.WriteAsync(http).ConfigureAwait(false);
                return;
            }

            ApiKeyCheck.Check(http, state.Options.ApiKey);
            string api = path.StartsWith("/v1/", StringComparison.Ordinal) ? path[3..] : path;
            Task handled = (method, api) switch
            {
                ("POST", "/chat/completions") => ChatCompletionsEndpoint.HandleAsync(http, state),
                ("POST", "/completions") => CompletionsEndpoint.HandleAsync(http, state),
                ("GET", "/models") => ModelEndpoints.ListAsync(http, state),
                ("GET", _) when api.StartsWith("/models/", StringComparison.Ordinal) => ModelEndpoints.GetAsync(http, state, Uri.UnescapeDataString(api["/models/".Length..])),
                ("GET", "/health") => ModelEndpoints.HealthAsync(http, state),
                _ => throw new ApiError(404, $"Unknown request URL: {method} {http.Request.Path.Value}. This server takes POST /v1/chat/completions, "
                    + "POST /v1/completions, GET /v1/models and GET /health.", null, "unknown_url"),
            };
            await handled.ConfigureAwait(false);
        }
        catch (ApiError e)
        {
            await WriteErrorAsync(http, e, state).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; its generation has left the batch.
        }
        catch (BadHttpRequestException e)
        {
            await WriteErrorAsync(http, new ApiError(e.StatusCode, $"Bad request: {e.Message}", null, "bad_request"), state).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            state.Logger.LogError(e, "{Method} {Path} failed", http.Request.Method, http.Request.Path.Value);
            await WriteErrorAsync(http, new ApiError(500, $"The server had an error while processing your request: {e.GetType().Name}: {e.Message}", null, "internal_error"), state)
                .ConfigureAwait(false);
        }
    }

    private static async Task WriteErrorAsync(HttpContext http, ApiError error, ServerState state)
    {
        state.Logger.LogInformation("{Method} {Path} {Status}: {Message}", http.Request.Method, http.Request.Path.Value, error.Status, error.Message);
        if (http.Response.HasStarted || http.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        http.Response.StatusCode = error.Status;
        try
        {
            await ModelEndpoints.WriteJsonAsync(http, error.ToJson()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client went away while it was told.
        }
    }
}
