using Microsoft.AspNetCore.Http;

namespace SharpGpt.Server.OpenAi;

/// <summary><c>POST /v1/chat/completions</c>: the conversation rendered through the model's chat template (or, for a
/// model without one, <see cref="ChatTemplate.Transcript"/>, the documented base-model format), the reply ending
/// at the template's stop sequences as well as the request's. Without max_tokens the reply may fill the context.</summary>
internal static class ChatCompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext http, ServerState state)
    {
        using var body = await RequestBody.ReadObjectAsync(http.Request, state.Options.MaxRequestBodyBytes, http.RequestAborted).ConfigureAwait(false);
        var fields = new RequestFields(body.RootElement);
        state.CheckModel(fields);
        var sampling = SamplingRequest.Read(fields, chat: true);
        var conversation = ChatMessages.Read(fields);
        int[] prompt;
        try
        {
            prompt = state.Model.EncodeChatPrompt(conversation);
        }
        catch (ArgumentException e)
        {
            throw ApiError.InvalidValue("messages", $"the model's vocabulary cannot spell it: {CompletionPrompt.FirstSentence(e.Message)}");
        }

        int maxTokens = state.CompletionTokens(prompt.Length, sampling, "messages", int.MaxValue);
        var template = state.Model.ChatTemplate ?? ChatTemplate.Transcript;
        await GenerationResponder.RespondAsync(http, state, prompt, sampling.ToOptions(maxTokens, template.StopSequences), sampling,
            new ChatResponseFormat(state.Options.ModelId)).ConfigureAwait(false);
    }
}
