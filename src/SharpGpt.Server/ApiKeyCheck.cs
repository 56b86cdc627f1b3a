using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using SharpGpt.Server.OpenAi;

namespace SharpGpt.Server;

/// <summary>With an API key set, a request must carry <c>Authorization: Bearer KEY</c>, else it gets 401. The key is
/// compared through hashes of equal length in constant time, so the time taken tells nothing of it.</summary>
internal static class ApiKeyCheck
{
    public static void Check(HttpContext http, string? key)
    {
        if (key is null)
        {
            return;
        }

        string? header = http.Request.Headers.Authorization;
        if (string.IsNullOrWhiteSpace(header))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            throw new ApiError(401, "You didn't provide an API key: this server needs one in the Authorization header, as 'Authorization: Bearer YOUR_KEY'.",
                null, "missing_api_key");
        }

        const string scheme = "Bearer ";
        bool bearer = header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase);
        byte[] given = SHA256.HashData(Encoding.UTF8.GetBytes(bearer ? header[scheme.Length..].Trim() : header));
        if (!bearer | !CryptographicOperations.FixedTimeEquals(given, SHA256.HashData(Encoding.UTF8.GetBytes(key))))
        {
            http.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            throw new ApiError(401, "Incorrect API key provided in the Authorization header (expected 'Authorization: Bearer YOUR_KEY').", null, "invalid_api_key");
        }
    }
}
