using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpGpt.Server.OpenAi;

/// <summary>How the server writes JSON: compact, with text as it is (an apostrophe or an accented letter is not
/// escaped: the responses are JSON and event streams, never inlined in HTML).</summary>
internal static class Json
{
    private static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(JsonNode node) => node.ToJsonString(Options);
}
