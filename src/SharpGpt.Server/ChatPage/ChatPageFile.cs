using Microsoft.AspNetCore.Http;

namespace SharpGpt.Server.ChatPage;

/// <summary>The chat page, <c>GET /</c>: one static HTML file with its CSS and script inline (no CDN, no build step),
/// embedded in the assembly. It talks to /v1/chat/completions from the same origin, so its policy lets it reach
/// nothing else.</summary>
internal static class ChatPageFile
{
    private static readonly Lazy<byte[]> Content = new(() =>
    {
        using var stream = typeof(ChatPageFile).Assembly.GetManifestResourceStream("SharpGpt.Server.ChatPage.index.html")
            ?? throw new InvalidOperationException("The chat page is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static async Task WriteAsync(HttpContext http)
    {
        http.Response.ContentType = "text/html; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.ContentSecurityPolicy =
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'";
        await http.Response.Body.WriteAsync(Content.Value, http.RequestAborted).ConfigureAwait(false);
    }
}
