using SharpGpt.Model;

namespace SharpGpt.Inference;

/// <summary>
/// Draws tokens from a <see cref="KvCacheDecoder"/>'s logits with temperature and top-k, one
/// seeded uniform draw per token, so a seed reproduces its sample exactly. Ties between equal
/// logits go to the lower token id, so top-k = 1 is the same as greedy.
/// </summary>
public sealed class Sampler
{
    private readonly KvCacheDecoder _decoder;
    private readonly Rng _rng;
    private readonly int _vocab;
    private readonly int _topK;          // the vocabulary size when top-k is off
    private readonly int[] _candidates;  // the top-k ids as a heap, then best first
    private readonly float[] _weights;   // unnormalised probabilities of the candidates

    public Sampler(KvCacheDecoder decoder, SamplingOptions options)
    {
        options.Validate();
        _decoder = decoder;
        Options = options;
        _vocab = decoder.Config.VocabSize;
        _rng = new Rng(options.Seed);
        _candidates = new int[_vocab];
        _weights = new float[_vocab];
        _topK = options.TopK <= 0 || options.TopK >= _vocab ? _vocab : options.TopK;
        if (_topK == _vocab)
        {
            for (int i = 0; i < _vocab; i++)
            {
                _candidates[i] = i;
            }
        }
    }

    public SamplingOptions Options { get; }

    /// <summary>Prefills the prompt, then samples up to maxNewTokens tokens, calling onToken as
    /// each one is chosen; returns them.</summary>
    public int[] Generate(ReadOnlySpan<int> prompt, int maxNewTokens, Action<int>? onToken = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxNewTokens);
        var generated = new int[maxNewTokens];
        if (maxNewTokens == 0)
        {
            return generated;
        }

        var logits = _decoder.Prefill(prompt);
        for (int i = 0; i < maxNewTokens; i++)
        {
            int token = Next(logits);
            generated[i] = token;
            onToken?.Invoke(token);
            if (i + 1 < maxNewTokens)
            {
                logits = _decoder.Append(token);
            }
        }

        return generated;
    }

    /// <summary>Picks the next token from logits over the vocabulary.</summary>
    public int Next(ReadOnlySpan<float> logits)
    {
        if (logits.Length != _vocab)
        {
            throw new ArgumentException($"Expected {_vocab} logits, got {logits.Length}.", nameof(logits));
        }

        float temperature = Options.Temperature;
        if (temperature == 0)
        {
            return ArgMax(logits);
        }

        int count = _topK == _vocab ? _vocab : SelectTopK(logits, _topK);

        // softmax(l / T) with the max subtracted, so exp() cannot overflow.
        float max = float.NegativeInfinity;
        for (int i = 0; i < count; i++)
        {
            max = MathF.Max(max, logits[_candidates[i]]);
        }

        double sum = 0;
        float invT = 1f / temperature;
        for (int i = 0; i < count; i++)
        {
            float w = MathF.Exp((logits[_candidates[i]] - max) * invT);
            _weights[i] = w;
            sum += w;
        }

        double u = _rng.NextDouble() * sum, cumulative = 0;
        for (int i = 0; i < count; i++)
        {
            cumulative += _weights[i];
            if (u < cumulative)
            {
                return _candidates[i];
            }
        }

        return _candidates[count - 1]; // rounding left u at the very top
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }

    // A min-heap of the k best ids seen so far (root = worst kept), then heap-sorted best first.
    private int SelectTopK(ReadOnlySpan<float> logits, int k)
    {
        var heap = _candidates.AsSpan(0, k);
        int size = 0;
        for (int id = 0; id < logits.Length; id++)
        {
            if (size < k)
            {
                heap[size] = id;
                SiftUp(heap, logits, size++);
            }
            else if (Worse(heap[0], id, logits))
            {
                heap[0] = id;
                SiftDown(heap, logits, 0, k);
            }
        }

        for (int end = k - 1; end > 0; end--)
        {
            (heap[0], heap[end]) = (heap[end], heap[0]);
            SiftDown(heap, logits, 0, end);
        }

        return k;
    }

    private static bool Worse(int a, int b, ReadOnlySpan<float> logits)
        => logits[a] < logits[b] || (logits[a] == logits[b] && a > b);

    private static void SiftUp(Span<int> heap, ReadOnlySpan<float> logits, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Worse(heap[i], heap[parent], logits))
            {
                return;
            }

            (heap[i], heap[parent]) = (heap[parent], heap[i]);
            i = parent;
        }
    }

    private static void SiftDown(Span<int> heap, ReadOnlySpan<float> logits, int i, int size)
    {
        while (true)
        {
            int left = (2 * i) + 1, right = left + 1, worst = i;
            if (left < size && Worse(heap[left], heap[worst], logits))
            {
                worst = left;
            }

            if (right < size && Worse(heap[right], heap[worst], logits))
            {
                worst = right;
            }

            if (worst == i)
            {
                return;
            }

            (heap[i], heap[worst]) = (heap[worst], heap[i]);
            i = worst;
        }
    }
}
