using System.Text.Json.Nodes;

namespace SharpGpt.Server.OpenAi;

/// <summary>
/// A request the server turns down, as OpenAI's API reports it: an HTTP status and
/// <c>{"error": {"message", "type", "param", "code"}}</c>, the message naming the field, header or limit at fault.
/// </summary>
internal sealed class ApiError(int status, string message, string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;

    /// <summary>The request field at fault, or null.</summary>
    public string? Param { get; } = param;

    /// <summary>A machine-readable reason (OpenAI's codes where it has one), or null.</summary>
    public string? Code { get; } = code;

    /// <summary>OpenAI's error type for the status.</summary>
    public string Type => Status switch
    {
        429 => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    public static ApiError InvalidValue(string param, string problem) =>
        new(400, $"Invalid value for '{param}': {problem}", param, "invalid_value");

    public static ApiError InvalidType(string param, string expected, System.Text.Json.JsonValueKind got) =>
        new(400, $"Invalid type for '{param}': expected {expected}, but got {KindName(got)} instead.", param, "invalid_type");

    public static ApiError Missing(string param) =>
        new(400, $"Missing required parameter: '{param}'.", param, "missing_required_parameter");

    public static ApiError Unsupported(string param, string what) =>
        new(400, $"Unsupported value for '{param}': {what}", param, "unsupported_value");

    public JsonObject ToJson() => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = Message,
            ["type"] = Type,
            ["param"] = Param,
            ["code"] = Code,
        },
    };

    private static string KindName(System.Text.Json.JsonValueKind kind) => kind switch
    {
        System.Text.Json.JsonValueKind.String => "a string",
        System.Text.Json.JsonValueKind.Number => "a number",
        System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => "a boolean",
        System.Text.Json.JsonValueKind.Array => "an array",
        System.Text.Json.JsonValueKind.Object => "an object",
        _ => "null",
    };
}
