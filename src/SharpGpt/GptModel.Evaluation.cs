using SharpGpt.Data;
using SharpGpt.Eval;
using SharpGpt.Inference;
using SharpGpt.Training;

namespace SharpGpt;

public sealed partial class GptModel
{
    /// <summary>How well the model predicts <paramref name="text"/>: the mean cross-entropy of its tokens, each predicted
    /// from the tokens before it. With GPT-2's tokenizer the text is read as a document (after &lt;|endoftext|&gt;), so
    /// its first token is scored too. A text longer than the block size is read in consecutive blocks.</summary>
    /// <param name="text">The text, at least one token long (two for a tokenizer without an end-of-text token).</param>
    /// <param name="cancellationToken">Stops the scoring between blocks (it then throws <see cref="OperationCanceledException"/>).</param>
    /// <returns>The tokens scored, the mean loss and the perplexity.</returns>
    /// <exception cref="ArgumentException">The text is too short, or holds a character the vocabulary lacks.</exception>
    /// <exception cref="InvalidOperationException">The model has no tokenizer.</exception>
    public TextScore Score(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        int[] tokens = EncodeDocument(text, nameof(text));
        if (tokens.Length < 2)
        {
            throw new ArgumentException("The text needs at least one token to score after the first.", nameof(text));
        }

        using var turn = TakeTurn(cancellationToken);
        var (sum, count) = TextScorer.Score(_network, tokens, cancellationToken);
        return new TextScore(count, sum / count);
    }

    /// <summary>The model's mean loss on the validation split of <paramref name="data"/> (or its train split when it has
    /// none), read in batches from the start, as training validates.</summary>
    /// <param name="data">The data.</param>
    /// <param name="batches">Batches to read; 0, the default, reads the whole split once.</param>
    /// <param name="batchSize">Sequences per batch; 8 by default.</param>
    /// <param name="sequenceLength">Tokens per sequence; null, the default, is the model's block size.</param>
    /// <param name="progress">Hears after each batch; may be null.</param>
    /// <param name="cancellationToken">Stops between batches (it then throws <see cref="OperationCanceledException"/>).</param>
    /// <returns>The tokens scored and their mean loss.</returns>
    /// <exception cref="ArgumentException">A count is out of range.</exception>
    /// <exception cref="SharpGptException">The data does not fit the model, or holds too few tokens for one batch.</exception>
    public TextScore EvaluateLoss(TrainingData data, int batches = 0, int batchSize = 8, int? sequenceLength = null,
        IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(batches);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int t = sequenceLength ?? Config.MaxSeqLen;
        if (t < 1 || t > Config.MaxSeqLen)
        {
            throw new ArgumentOutOfRangeException(nameof(sequenceLength), t, $"The sequence length must be in [1, {Config.MaxSeqLen}], the model's block size.");
        }

        using var turn = TakeTurn(cancellationToken);
        var loader = new TokenDataLoader(data.Validation ?? data.Train, batchSize, t);
        loader.ValidateTokens(Config.VocabSize);
        long total = ValidationLoss.Batches(loader, batches);
        var (sum, count, read) = ValidationLoss.Measure(_network, loader, batches, done => progress?.Report(new EvaluationProgress(done, total)), cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        return new TextScore(count, count == 0 ? double.NaN : sum / count);
    }

    /// <summary>Scores HellaSwag as build-nanogpt does: each example's four endings after its context, the ending with
    /// the lowest mean loss per token is the prediction (acc_norm; the lowest summed loss gives acc).</summary>
    /// <param name="path">HellaSwag's JSON lines (hellaswag_val.jsonl: ctx, endings, label).</param>
    /// <param name="limit">Score only the first this many examples; 0, the default, scores all.</param>
    /// <param name="progress">Hears after each example; may be null.</param>
    /// <param name="cancellationToken">Stops between examples (it then throws <see cref="OperationCanceledException"/>).</param>
    /// <returns>The accuracies and each example's scores.</returns>
    /// <exception cref="SharpGptException">The file is missing or holds a malformed example (named by its line).</exception>
    /// <exception cref="InvalidOperationException">The model has no tokenizer.</exception>
    public HellaSwagResult EvaluateHellaSwag(string path, int limit = 0, IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var tokenizer = RequireTokenizer(nameof(path));
        using var turn = TakeTurn(cancellationToken);
        var evaluator = new HellaSwagEvaluator(_network, tokenizer, HellaSwagExample.Read(Path.GetFullPath(path), limit));
        var result = evaluator.Evaluate((done, total) => progress?.Report(new EvaluationProgress(done, total)), stop: cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        return result;
    }
}
