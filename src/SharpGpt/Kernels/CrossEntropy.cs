using System.Numerics;

namespace SharpGpt.Kernels;

/// <summary>
/// Fused softmax + cross-entropy over the real vocabulary (padded columns never count).
/// The forward keeps only each row's log-sum-exp; the backward turns the logits into their
/// gradient in place, so no separate probability matrix is ever stored. Targets of -1 are masked.
/// </summary>
internal static unsafe class CrossEntropy
{
    private struct Args
    {
        public float* Logits, Losses, Lse;
        public int* Targets;
        public int Rows, V, Vp;
        public float DLoss;
    }

    // losses (N), lse (N) <- logits (N,Vp), targets (N); a masked row has loss 0
    public static void Forward(ParallelRunner runner, float* losses, float* lse, float* logits, int* targets, int rows, int v, int vp)
    {
        var args = new Args { Losses = losses, Lse = lse, Logits = logits, Targets = targets, Rows = rows, V = v, Vp = vp };
        runner.For(rows, &ForwardRow, &args);
    }

    private static void ForwardRow(int r, void* p)
    {
        var a = (Args*)p;
        float* x = a->Logits + ((long)r * a->Vp);
        int v = a->V;
        var vmax = new Vector<float>(float.NegativeInfinity);
        int i = 0;
        for (; i <= v - Vector<float>.Count; i += Vector<float>.Count)
        {
            vmax = Vector.Max(vmax, Vector.Load(x + i));
        }

        float max = float.NegativeInfinity;
        for (int l = 0; l < Vector<float>.Count; l++)
        {
            max = MathF.Max(max, vmax[l]);
        }

        for (; i < v; i++)
        {
            max = MathF.Max(max, x[i]);
        }

        var vm = new Vector<float>(max);
        var acc = Vector<float>.Zero;
        i = 0;
        for (; i <= v - Vector<float>.Count; i += Vector<float>.Count)
        {
            acc += Vector.Exp(Vector.Load(x + i) - vm);
        }

        float sum = Vector.Sum(acc);
        for (; i < v; i++)
        {
            sum += MathF.Exp(x[i] - max);
        }

        float lse = max + MathF.Log(sum);
        a->Lse[r] = lse;
        int target = a->Targets[r];
        a->Losses[r] = target < 0 ? 0f : lse - x[target];
    }

    // logits (N,Vp) <- d loss / d logits, where every unmasked row's loss is weighted by dloss
    public static void Backward(ParallelRunner runner, float* logits, float* lse, int* targets, float dloss, int rows, int v, int vp)
    {
        var args = new Args { Logits = logits, Lse = lse, Targets = targets, DLoss = dloss, Rows = rows, V = v, Vp = vp };
        runner.For(rows, &BackwardRow, &args);
    }

    private static void BackwardRow(int r, void* p)
    {
        var a = (Args*)p;
        float* x = a->Logits + ((long)r * a->Vp);
        int v = a->V, target = a->Targets[r];
        if (target < 0)
        {
            new Span<float>(x, a->Vp).Clear();
            return;
        }

        var lse = new Vector<float>(a->Lse[r]);
        var scale = new Vector<float>(a->DLoss);
        int i = 0;
        for (; i <= v - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector.Store(Vector.Exp(Vector.Load(x + i) - lse) * scale, x + i);
        }

        for (; i < v; i++)
        {
            x[i] = MathF.Exp(x[i] - a->Lse[r]) * a->DLoss;
        }

        new Span<float>(x + v, a->Vp - v).Clear();
        x[target] -= a->DLoss;
    }
}
