using SharpGpt.Model;

namespace SharpGpt.Inference;

/// <summary>
/// Draws tokens from a <see cref="KvCacheDecoder"/>'s logits with temperature, top-k and top-p, one
/// seeded uniform draw per token, so a seed reproduces its sample exactly. Ties between equal
/// logits go to the lower token id, so top-k = 1 is the same as greedy. Only the first
/// <c>vocab</c> logits take part: a tokenizer smaller than the model's vocabulary has no text for the rest.
/// </summary>
internal sealed class Sampler
{
    private readonly KvCacheDecoder? _decoder;
    private readonly Rng _rng;
    private readonly int _vocab;
    private readonly int _topK;          // the vocabulary size when top-k is off
    private readonly int[] _candidates;  // the top-k ids as a heap, then best first
    private readonly float[] _weights;   // unnormalised probabilities of the candidates

    private readonly float[] _sortKeys;  // top-p's order: negated weights

    /// <param name="vocab">The ids that may be drawn, [0, vocab); 0 or less: the model's whole vocabulary.</param>
    public Sampler(KvCacheDecoder decoder, SamplingOptions options, int vocab = 0)
        : this(options, decoder.Config.VocabSize, vocab)
    {
        _decoder = decoder;
    }

    /// <summary>A sampler of logits from any decoder (<see cref="Next"/> only; <see cref="Generate"/> needs a decoder).</summary>
    /// <param name="modelVocab">The model's vocabulary size: the logits handed to <see cref="Next"/> have at least this many.</param>
    /// <param name="vocab">The ids that may be drawn, [0, vocab); 0 or less: the model's whole vocabulary.</param>
    public Sampler(SamplingOptions options, int modelVocab, int vocab = 0)
    {
        options.Validate();
        Options = options;
        _vocab = vocab > 0 ? Math.Min(vocab, modelVocab) : modelVocab;
        _sortKeys = options.TopP < 1 ? new float[_vocab] : [];
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
        var decoder = _decoder ?? throw new InvalidOperationException("This sampler was made without a decoder.");
        var generated = new int[maxNewTokens];
        if (maxNewTokens == 0)
        {
            return generated;
        }

        var logits = decoder.Prefill(prompt);
        for (int i = 0; i < maxNewTokens; i++)
        {
            int token = Next(logits);
            generated[i] = token;
            onToken?.Invoke(token);
            if (i + 1 < maxNewTokens)
            {
                logits = decoder.Append(token);
            }
        }

        return generated;
    }

    /// <summary>Picks the next token from logits over the vocabulary (the model's; only the first <c>vocab</c> count).</summary>
    public int Next(ReadOnlySpan<float> logits)
    {
        if (logits.Length < _vocab)
        {
            throw new ArgumentException($"Expected {_vocab} logits, got {logits.Length}.", nameof(logits));
        }

        logits = logits[.._vocab];

        float temperature = Options.Temperature;
        if (temperature == 0)
        {
            return ArgMax(logits);
        }

        int count = _topK == _vocab ? _vocab : SelectTopK(logits, _topK);
        if (_topK == _vocab && Options.TopP < 1)
        {
            // The last draw's nucleus sorted the ids: back to id order, which the weights below follow.
            for (int i = 0; i < _vocab; i++)
            {
                _candidates[i] = i;
            }
        }

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

        if (Options.TopP < 1)
        {
            (count, sum) = Nucleus(count, sum);
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

    // Top-p: the candidates in order of weight, cut after the first whose running sum reaches TopP of the total.
    // Top-k leaves them best first already; the whole vocabulary is sorted (ties keep the lower id first).
    private (int Count, double Sum) Nucleus(int count, double sum)
    {
        if (_topK == _vocab)
        {
            var keys = _sortKeys.AsSpan(0, count);
            for (int i = 0; i < count; i++)
            {
                keys[i] = -_weights[i];
            }

            keys.Sort(_candidates.AsSpan(0, count));
            Span<int> ids = _candidates.AsSpan(0, count);
            for (int i = 0; i < count; i++)
            {
                _weights[i] = -keys[i];
            }

            // Equal weights may come out in any order from the sort: put their ids in ascending order.
            for (int i = 0; i < count;)
            {
                int j = i + 1;
                while (j < count && keys[j] == keys[i])
                {
                    j++;
                }

                ids[i..j].Sort();
                i = j;
            }
        }

        double threshold = Options.TopP * sum, running = 0;
        for (int i = 0; i < count; i++)
        {
            running += _weights[i];
            if (running >= threshold)
            {
                return (i + 1, running);
            }
        }

        return (count, sum);
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
