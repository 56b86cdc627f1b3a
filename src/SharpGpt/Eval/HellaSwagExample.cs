using System.Globalization;
using System.Text.Json;

namespace SharpGpt.Eval;

/// <summary>One HellaSwag item: a context, four candidate endings and the index of the right one.
/// <paramref name="Source"/> names where it came from ("file:line") for errors.</summary>
internal sealed record HellaSwagExample(string Context, IReadOnlyList<string> Endings, int Label, string Source = "")
{
    public const int EndingCount = 4;

    /// <summary>Reads HellaSwag's JSON lines (the fields <c>ctx</c>, <c>endings</c> and <c>label</c> of each
    /// line; the others are ignored). Blank lines are skipped; <paramref name="limit"/> &gt; 0 stops after that many.</summary>
    public static IReadOnlyList<HellaSwagExample> Read(string path, int limit = 0)
    {
        if (!File.Exists(path))
        {
            throw new SharpGptException(path, "HellaSwag file not found.");
        }

        var examples = new List<HellaSwagExample>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            if (limit > 0 && examples.Count == limit)
            {
                break;
            }

            examples.Add(Parse(line, $"{path}:{lineNumber}"));
        }

        if (examples.Count == 0)
        {
            throw new SharpGptException(path, "no HellaSwag examples in the file.");
        }

        return examples;
    }

    /// <summary>Parses one JSON line; <paramref name="source"/> prefixes every error.</summary>
    public static HellaSwagExample Parse(string json, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new SharpGptException(source, $"not valid JSON: {e.Message}", innerException: e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new SharpGptException(source, "not a JSON object.");
            }

            if (!root.TryGetProperty("ctx", out var ctx) || ctx.ValueKind != JsonValueKind.String)
            {
                throw new SharpGptException(source, "missing or non-string \"ctx\".");
            }

            if (!root.TryGetProperty("endings", out var endings) || endings.ValueKind != JsonValueKind.Array
                || endings.GetArrayLength() != EndingCount || endings.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            {
                throw new SharpGptException(source, $"\"endings\" must be an array of {EndingCount} strings.");
            }

            if (!root.TryGetProperty("label", out var labelElement))
            {
                throw new SharpGptException(source, "missing \"label\" (the test split has no labels; use the validation split).");
            }

            int label = labelElement.ValueKind switch
            {
                JsonValueKind.Number when labelElement.TryGetInt32(out int n) => n,
                JsonValueKind.String when int.TryParse(labelElement.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) => n,
                _ => -1,
            };
            if (label is < 0 or >= EndingCount)
            {
                throw new SharpGptException(source, $"\"label\" is {labelElement.GetRawText()}, expected 0 to {EndingCount - 1}.");
            }

            return new HellaSwagExample(ctx.GetString()!, [.. endings.EnumerateArray().Select(e => e.GetString()!)], label, source);
        }
    }
}
