using System.Text;

namespace SharpGpt.Inference;

/// <summary>
/// Holds generated text back while it could still be the start of a stop sequence, and finds the first stop
/// sequence once it is complete, so a stream never shows any part of one (as OpenAI's API behaves).
/// </summary>
internal sealed class StopSequenceFilter(IReadOnlyList<string> stops)
{
    private readonly StringBuilder _held = new();

    /// <summary>Whether a stop sequence has been seen; no more text is released after it.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Takes new text and returns what is safe to show: everything before a stop sequence, or before a
    /// tail that may grow into one.</summary>
    public string Push(string text)
    {
        if (Stopped)
        {
            return "";
        }

        if (stops.Count == 0)
        {
            return text;
        }

        _held.Append(text);
        string held = _held.ToString();
        int stopAt = -1;
        foreach (var stop in stops)
        {
            int at = held.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (stopAt < 0 || at < stopAt))
            {
                stopAt = at;
            }
        }

        if (stopAt >= 0)
        {
            Stopped = true;
            _held.Clear();
            return held[..stopAt];
        }

        int keep = LongestPrefixTail(held);
        _held.Clear().Append(held, held.Length - keep, keep);
        return held[..^keep];
    }

    /// <summary>The text held back at the end of the generation (it never became a stop sequence).</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : _held.ToString();
        _held.Clear();
        return rest;
    }

    // The longest tail of the text that is a proper prefix of some stop sequence.
    private int LongestPrefixTail(string text)
    {
        int best = 0;
        foreach (var stop in stops)
        {
            for (int n = Math.Min(stop.Length - 1, text.Length); n > best; n--)
            {
                if (text.AsSpan(text.Length - n).SequenceEqual(stop.AsSpan(0, n)))
                {
                    best = n;
                    break;
                }
            }
        }

        return best;
    }
}
