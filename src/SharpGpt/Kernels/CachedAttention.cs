using System.Numerics;

namespace SharpGpt.Kernels;

/// <summary>
/// Causal attention for n new queries at positions start..start+n-1 over a key/value cache that
/// already holds positions 0..start+n-1. Same arithmetic, in the same order, as the plain
/// <see cref="Attention"/> forward. The training default, <see cref="FlashAttention"/>, sums the
/// softmax in tiles, so cached logits differ from its full forward by rounding only (under 3e-7 on
/// the test models; the tests allow 1e-5).
/// </summary>
internal static unsafe class CachedAttention
{
    internal const long SerialWork = 1 << 16;

    private struct Args
    {
        public float* Out, Qkv, Keys, Values, Scores;
        public int Start, N, C, NH, MaxT, Groups;
    }

    /// <summary>Row groups per head for a runner: enough parts to keep every thread busy in a prefill.</summary>
    public static int GroupsFor(ParallelRunner runner, int nh) => Math.Max(1, ((4 * runner.Threads) + nh - 1) / nh);

    /// <summary>Floats of score scratch: one row of maxT per (head, row group).</summary>
    public static long ScratchSize(ParallelRunner runner, int nh, int maxT) => (long)nh * GroupsFor(runner, nh) * maxT;

    // out (N,C) <- q from qkv (N,3C), keys (maxT,C), values (maxT,C) filled for positions 0..start+N-1
    public static void Forward(ParallelRunner runner, float* output, float* qkv, float* keys, float* values, float* scores,
        int start, int n, int c, int nh, int maxT)
    {
        int groups = Math.Min(n, GroupsFor(runner, nh));
        var args = new Args { Out = output, Qkv = qkv, Keys = keys, Values = values, Scores = scores, Start = start, N = n, C = c, NH = nh, MaxT = maxT, Groups = groups };
        // A short context is a few microseconds of work: waking the thread team would cost more.
        if ((long)n * (start + n) * c < SerialWork)
        {
            for (int part = 0; part < nh * groups; part++)
            {
                ForwardPart(part, &args);
            }

            return;
        }

        runner.For(nh * groups, &ForwardPart, &args);
    }

    private static void ForwardPart(int part, void* p)
    {
        var a = (Args*)p;
        int c = a->C, nh = a->NH, hs = c / nh;
        int h = part % nh, group = part / nh;
        float scale = 1f / MathF.Sqrt(hs);
        float* row = a->Scores + ((long)part * a->MaxT);

        // Rows are dealt round-robin so the long (late) rows of the causal triangle spread over groups.
        for (int r = group; r < a->N; r += a->Groups)
        {
            int count = a->Start + r + 1;
            float* q = a->Qkv + ((long)r * 3 * c) + (h * hs);
            Attention.AttendQuery(q, a->Keys + (h * hs), a->Values + (h * hs), c, count, hs, scale, row, a->Out + ((long)r * c) + (h * hs));
        }
    }
}
