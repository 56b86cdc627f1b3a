using Microsoft.AspNetCore.Http;

namespace SharpGpt.Server.OpenAi;

/// <summary><c>POST /v1/completions</c>: the prompt continued as the model writes it. Without max_tokens the completion
/// takes at most 16 tokens, OpenAI's default for this endpoint.</summary>
internal static class CompletionsEndpoint
{
    public const int DefaultMaxTokens = 16;

    public static async Task HandleAsync(HttpContext http, ServerState state)
    {
        using var body = await RequestBody.ReadObjectAsync(http.Request, state.Options.MaxRequestBodyBytes, http.RequestAborted).ConfigureAwait(false);
        var fields = new RequestFields(body.RootElement);
        state.CheckModel(fields);
        var sampling = SamplingRequest.Read(fields, chat: false);
        int[] prompt = CompletionPrompt.Read(fields, state.Model);
        int maxTokens = state.CompletionTokens(prompt.Length, sampling, "prompt", DefaultMaxTokens);
        await GenerationResponder.RespondAsync(http, state, prompt, sampling.ToOptions(maxTokens, []), sampling,
            new CompletionResponseFormat(state.Options.ModelId)).ConfigureAwait(false);
    }
}
