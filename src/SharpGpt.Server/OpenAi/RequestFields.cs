using System.Globalization;
using System.Text.Json;

namespace SharpGpt.Server.OpenAi;

/// <summary>The fields of a JSON request object, read with their types and ranges checked: a field that is absent
/// or null reads as null; one of the wrong type or out of range is an <see cref="ApiError"/> naming it.</summary>
internal readonly struct RequestFields(JsonElement root)
{
    public JsonElement? Get(string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public string? String(string name)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw ApiError.InvalidType(name, "a string", value.ValueKind);
    }

    public bool? Boolean(string name)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        return value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean()
            : throw ApiError.InvalidType(name, "a boolean", value.ValueKind);
    }

    public long? Integer(string name, long min, long max)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        long number = IntegerOf(value, name);
        return number >= min && number <= max ? number
            : throw ApiError.InvalidValue(name, $"expected an integer from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, got {number.ToString(CultureInfo.InvariantCulture)}.");
    }

    /// <summary>A number in [min, max], or (min, max] when <paramref name="minExclusive"/>.</summary>
    public double? Number(string name, double min, double max, bool minExclusive = false)
    {
        if (Get(name) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number))
        {
            throw ApiError.InvalidType(name, "a number", value.ValueKind);
        }

        bool aboveMin = minExclusive ? number > min : number >= min;
        return aboveMin && number <= max ? number
            : throw ApiError.InvalidValue(name, FormattableString.Invariant(
                $"expected a number {(minExclusive ? "greater than" : "from")} {min} {(minExclusive ? "and at most" : "to")} {max}, got {number}."));
    }

    public static long IntegerOf(JsonElement value, string name)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            throw ApiError.InvalidType(name, "an integer", value.ValueKind);
        }

        if (value.TryGetInt64(out long number))
        {
            return number;
        }

        // 5.0 is an integer written as a decimal; 5.5 and 1e30 are not integers here.
        return value.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) < 9e15 ? (long)d
            : throw ApiError.InvalidType(name, "an integer", JsonValueKind.Number);
    }
}
