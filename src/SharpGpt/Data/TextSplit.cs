namespace SharpGpt.Data;

/// <summary>Where one text is split into train and validation, nanoGPT's way.</summary>
internal static class TextSplit
{
    /// <summary>Index of the first validation character: nanoGPT's int(n * 0.9) for f = 0.1, moved off a surrogate pair.</summary>
    public static int TrainValCut(string text, double valFraction)
    {
        var cut = (int)(text.Length * (1.0 - valFraction));
        if (cut > 0 && cut < text.Length && char.IsHighSurrogate(text[cut - 1]) && char.IsLowSurrogate(text[cut]))
        {
            cut++;
        }

        return cut;
    }
}
