namespace SharpGpt.Data;

/// <summary>Where one text is split into train and validation, nanoGPT's way.</summary>
internal static class TextSplit
{
    /// <summary>The first val character of a text of <paramref name="length"/> characters: nanoGPT's int(n * 0.9)
    /// for f = 0.1. The cut then moves one on where it would split a surrogate pair.</summary>
    public static long FirstValChar(long length, double valFraction) => (long)(length * (1.0 - valFraction));

    /// <summary>Index of the first validation character of <paramref name="text"/>: <see cref="FirstValChar"/>, moved off a surrogate pair.</summary>
    public static int TrainValCut(string text, double valFraction)
    {
        var cut = (int)FirstValChar(text.Length, valFraction);
        if (cut > 0 && cut < text.Length && char.IsSurrogatePair(text[cut - 1], text[cut]))
        {
            cut++;
        }

        return cut;
    }
}
