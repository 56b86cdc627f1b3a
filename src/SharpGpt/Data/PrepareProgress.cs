namespace SharpGpt.Data;

/// <summary>How far <see cref="DataPreparer"/> has come: input bytes tokenized and written, of the total.</summary>
internal sealed record PrepareProgress(long BytesRead, long TotalBytes, long Tokens, long Documents, TimeSpan Elapsed)
{
    public double TokensPerSecond => Elapsed.TotalSeconds > 0 ? Tokens / Elapsed.TotalSeconds : 0;

    /// <summary>Time left at the pace so far, by bytes; null before there is a pace.</summary>
    public TimeSpan? Remaining => BytesRead > 0 && TotalBytes >= BytesRead
        ? TimeSpan.FromSeconds(Elapsed.TotalSeconds * (TotalBytes - BytesRead) / BytesRead)
        : null;
}
