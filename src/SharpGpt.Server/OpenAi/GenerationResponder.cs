using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SharpGpt.Server.OpenAi;

/// <summary>
/// Runs one request's generation through the server's <see cref="GptBatchGenerator"/> and writes it back: whole, or
/// as server-sent events in OpenAI's chunk format ending with <c>data: [DONE]</c>. The generation ends with the
/// request: a client that disconnects (the request is aborted) leaves the batch before the next step.
/// </summary>
internal static class GenerationResponder
{
    public static async Task RespondAsync(HttpContext http, ServerState state, int[] prompt, GenerationOptions options, SamplingRequest sampling, ResponseFormat format)
    {
        long start = Stopwatch.GetTimestamp();
        using var end = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, state.Stopping);
        var updates = state.Generator.GenerateAsync(prompt, options, end.Token).GetAsyncEnumerator(end.Token);
        await using (updates.ConfigureAwait(false))
        {
            // The first update comes once the request has a place in the batch and its prompt is read: only then is
            // the response started, so a full queue is still a 429.
            bool more;
            try
            {
                more = await updates.MoveNextAsync().ConfigureAwait(false);
            }
            catch (GenerationQueueFullException e)
            {
                http.Response.Headers.RetryAfter = "1";
                throw new ApiError(429, $"The server is busy: {e.MaxBatchSize} requests are being decoded (the batch size) and {e.MaxQueueLength} "
                    + "are waiting (the queue length). Please retry shortly.", null, "rate_limit_exceeded");
            }
            catch (OperationCanceledException) when (state.Stopping.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
            {
                throw ShuttingDown();
            }

            long firstToken = Stopwatch.GetTimestamp();
            GenerationResult? result;
            try
            {
                result = sampling.Stream
                    ? await StreamAsync(http, updates, more, sampling, format, state.Logger).ConfigureAwait(false)
                    : await WholeAsync(http, updates, more, format).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (state.Stopping.IsCancellationRequested && !http.RequestAborted.IsCancellationRequested)
            {
                if (!http.Response.HasStarted)
                {
                    throw ShuttingDown();
                }

                await SendAsync(http, ShuttingDown().ToJson()).ConfigureAwait(false);
                await http.Response.WriteAsync("data: [DONE]\n\n", CancellationToken.None).ConfigureAwait(false);
                return;
            }

            if (result is not null && state.Logger.IsEnabled(LogLevel.Information))
            {
                state.Logger.LogInformation("{Method} {Path} {Status}: {Prompt} prompt + {Completion} completion tokens in {Seconds:F2} s (first after {First:F2} s), {Finish}{Streamed}",
                    http.Request.Method, http.Request.Path.Value, http.Response.StatusCode, result.PromptTokenCount, result.OutputTokenCount,
                    Stopwatch.GetElapsedTime(start).TotalSeconds, Stopwatch.GetElapsedTime(start, firstToken).TotalSeconds,
                    ResponseFormat.FinishReasonOf(result), sampling.Stream ? ", streamed" : "");
            }
        }
    }

    private static async Task<GenerationResult?> WholeAsync(HttpContext http, IAsyncEnumerator<GenerationUpdate> updates, bool more, ResponseFormat format)
    {
        var text = new StringBuilder();
        GenerationResult? result = null;
        for (; more; more = await updates.MoveNextAsync().ConfigureAwait(false))
        {
            text.Append(updates.Current.Text);
            result = updates.Current.Result ?? result;
        }

        var whole = format.Whole(text.ToString(), ResponseFormat.FinishReasonOf(result!), ResponseFormat.Usage(result!));
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(Json.Write(whole), http.RequestAborted).ConfigureAwait(false);
        return result;
    }

    private static async Task<GenerationResult?> StreamAsync(HttpContext http, IAsyncEnumerator<GenerationUpdate> updates, bool more, SamplingRequest sampling, ResponseFormat format, ILogger logger)
    {
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        if (format.FirstChunk() is { } first)
        {
            await SendAsync(http, first).ConfigureAwait(false);
        }

        GenerationResult? result = null;
        try
        {
            for (; more; more = await updates.MoveNextAsync().ConfigureAwait(false))
            {
                if (updates.Current.Result is { } last)
                {
                    result = last;
                    var usage = ResponseFormat.Usage(last);
                    await SendAsync(http, format.LastChunk(ResponseFormat.FinishReasonOf(last), sampling.IncludeUsage ? null : usage)).ConfigureAwait(false);
                    if (sampling.IncludeUsage)
                    {
                        await SendAsync(http, format.UsageChunk(usage)).ConfigureAwait(false);
                    }
                }
                else if (format.Chunk(updates.Current.Text) is { } chunk)
                {
                    await SendAsync(http, chunk).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException && !http.RequestAborted.IsCancellationRequested)
        {
            // The stream has started: the failure goes in the stream, as OpenAI-compatible servers send it.
            await SendAsync(http, new ApiError(500, $"The generation failed: {e.Message}", null, "generation_failed").ToJson()).ConfigureAwait(false);
            await http.Response.WriteAsync("data: [DONE]\n\n", http.RequestAborted).ConfigureAwait(false);
            logger.LogError(e, "{Method} {Path}: the generation failed after its stream had started", http.Request.Method, http.Request.Path.Value);
            return null;
        }

        await http.Response.WriteAsync("data: [DONE]\n\n", http.RequestAborted).ConfigureAwait(false);
        return result;
    }

    private static async Task SendAsync(HttpContext http, JsonObject data)
    {
        await http.Response.WriteAsync($"data: {Json.Write(data)}\n\n", http.RequestAborted).ConfigureAwait(false);
        await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }

    private static ApiError ShuttingDown() => new(503, "The server is shutting down.", null, "server_shutting_down");
}
