namespace SharpGpt;

/// <summary>How far <see cref="DataPreparer"/> has come: input bytes tokenized and written, of the total.</summary>
/// <param name="BytesRead">Input bytes read so far.</param>
/// <param name="TotalBytes">Input bytes in all.</param>
/// <param name="Tokens">Tokens written so far.</param>
/// <param name="Documents">Documents written so far.</param>
/// <param name="Elapsed">The time since the preparation started.</param>
public sealed record PrepareProgress(long BytesRead, long TotalBytes, long Tokens, long Documents, TimeSpan Elapsed)
{
    /// <summary>Tokens written per second so far.</summary>
    public double TokensPerSecond => Elapsed.TotalSeconds > 0 ? Tokens / Elapsed.TotalSeconds : 0;

    /// <summary>Time left at the pace so far, by bytes; null before there is a pace.</summary>
    public TimeSpan? Remaining => BytesRead > 0 && TotalBytes >= BytesRead
        ? TimeSpan.FromSeconds(Elapsed.TotalSeconds * (TotalBytes - BytesRead) / BytesRead)
        : null;
}
