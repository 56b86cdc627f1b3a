using SharpGpt.Data;
using SharpGpt.Tests.Data;

namespace SharpGpt.Tests.Distributed;

/// <summary>
/// A tiny char dataset, the command line every run shares, and the plain two-rank run that
/// several tests compare with (run once, on first use).
/// </summary>
public sealed class DataParallelRuns : IDisposable
{
    public const int Steps = 6;

    private readonly TempDirectory _dir = new();
    private readonly Lazy<(MpiJob.Result Result, string Out)> _twoRanks;

    public DataParallelRuns()
    {
        Data = _dir.File("data");
        string text = string.Concat(Enumerable.Range(0, 400).Select(i => $"line {i}: the quick brown fox {(char)('a' + (i % 26))}.\n"));
        DataPreparer.PrepareText(text, Data, new PrepareOptions { Tokenizer = TokenizerKind.Character });
        _twoRanks = new(() =>
        {
            string output = OutDir("two-ranks");
            return (MpiJob.Run(2, Train(output, Steps)).Succeeded(), output);
        });
    }

    public string Data { get; }

    /// <summary>Two ranks, plain data parallelism, 2 accumulation steps each.</summary>
    public (MpiJob.Result Result, string Out) TwoRanks => _twoRanks.Value;

    public string OutDir(string name) => _dir.File(name);

    /// <summary>
    /// 128 tokens per step from micro-batches of 2 x 16: 2 ranks accumulate 2 micro-steps, 1 process 4.
    /// A constant learning rate, so a run stopped at step 3 and resumed follows the same schedule.
    /// --comm-chunk 1000 cuts this ~30K-float model into ~30 ZeRO rounds with an uneven last one,
    /// so rounds, and blocks that straddle tensors, are exercised as with GPT-2's 124M floats.
    /// </summary>
    public string[] Train(string output, int maxSteps, params string[] extra) =>
    [
        "train", "--data", Data, "--out", output, "--layers", "2", "--heads", "2", "--embd", "32", "--block-size", "16",
        "--seq-len", "16", "--micro-batch", "2", "--total-batch-tokens", "128", "--max-steps", $"{maxSteps}",
        "--lr", "3e-3", "--min-lr", "3e-3", "--warmup", "0", "--val-every", "0", "--checkpoint-every", "3",
        "--sample-tokens", "8", "--threads", "1", "--comm-chunk", "1000", .. extra,
    ];

    public void Dispose() => _dir.Dispose();
}
