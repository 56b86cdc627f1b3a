using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace SharpGpt.Server.OpenAi;

/// <summary>A request's JSON body, read up to the server's size limit (a larger body is a 413, whether it says its
/// length up front or not) and parsed as one JSON object.</summary>
internal static class RequestBody
{
    public static async Task<JsonDocument> ReadObjectAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    throw TooLarge(limit);
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(limit);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        }
        catch (JsonException e)
        {
            throw new ApiError(400, $"We could not parse the JSON body of your request: {e.Message}", null, "invalid_json");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new ApiError(400, "The request body must be a JSON object.", null, "invalid_json");
        }

        return document;
    }

    private static ApiError TooLarge(long limit) =>
        new(413, $"The request body is larger than this server's limit of {limit} bytes.", null, "request_too_large");
}
