namespace SharpGpt.Data;

/// <summary>Data sets compiled into the library, so a first run needs no download.</summary>
internal static class EmbeddedData
{
    public const string TinyShakespeareResource = "SharpGpt.Data.tinyshakespeare.txt";

    /// <summary>Tiny Shakespeare (Karpathy's char-rnn corpus, 1,115,394 characters).</summary>
    public static string TinyShakespeare()
    {
        using var stream = typeof(EmbeddedData).Assembly.GetManifestResourceStream(TinyShakespeareResource)
            ?? throw new InvalidOperationException($"Resource {TinyShakespeareResource} is missing from {typeof(EmbeddedData).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
