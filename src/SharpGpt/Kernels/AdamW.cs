using System.Numerics;

namespace SharpGpt.Kernels;

/// <summary>
/// AdamW in one pass over the contiguous parameter buffer, in llm.c's form:
/// p -= lr * (mhat / (sqrt(vhat) + eps) + wd * p), with the gradient scaled first (for clipping).
/// </summary>
public static unsafe class AdamW
{
    private const int Block = 16384;

    private struct Args
    {
        public float* Params, Grads, M, V;
        public long Count;
        public float Lr, Beta1, Beta2, Eps, WeightDecay, GradScale, Correction1, Correction2;
        public bool ZeroGrads;
    }

    // params, m, v (N) updated <- grads (N); weight decay applies to the whole range given.
    // zeroGrads clears the gradients in the same pass, saving a separate sweep over memory.
    public static void Update(ParallelRunner runner, float* parameters, float* grads, float* m, float* v, long count,
        float lr, float beta1, float beta2, float eps, float weightDecay, int step, float gradScale = 1f, bool zeroGrads = false)
    {
        var args = new Args
        {
            Params = parameters,
            Grads = grads,
            M = m,
            V = v,
            Count = count,
            Lr = lr,
            Beta1 = beta1,
            Beta2 = beta2,
            Eps = eps,
            WeightDecay = weightDecay,
            GradScale = gradScale,
            ZeroGrads = zeroGrads,
            Correction1 = 1f - MathF.Pow(beta1, step),
            Correction2 = 1f - MathF.Pow(beta2, step),
        };
        runner.For((int)((count + Block - 1) / Block), &UpdateBlock, &args);
    }

    private static void UpdateBlock(int part, void* p)
    {
        var a = (Args*)p;
        long start = (long)part * Block, end = Math.Min(a->Count, start + Block);
        var b1 = new Vector<float>(a->Beta1);
        var b2 = new Vector<float>(a->Beta2);
        var ob1 = new Vector<float>(1f - a->Beta1);
        var ob2 = new Vector<float>(1f - a->Beta2);
        var c1 = new Vector<float>(1f / a->Correction1);
        var c2 = new Vector<float>(1f / a->Correction2);
        var eps = new Vector<float>(a->Eps);
        var lr = new Vector<float>(a->Lr);
        var wd = new Vector<float>(a->WeightDecay);
        var gs = new Vector<float>(a->GradScale);
        long i = start;
        for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
        {
            var g = Vector.Load(a->Grads + i) * gs;
            var m = (b1 * Vector.Load(a->M + i)) + (ob1 * g);
            var v = (b2 * Vector.Load(a->V + i)) + (ob2 * g * g);
            var w = Vector.Load(a->Params + i);
            var update = ((m * c1) / (Vector.SquareRoot(v * c2) + eps)) + (wd * w);
            Vector.Store(m, a->M + i);
            Vector.Store(v, a->V + i);
            Vector.Store(w - (lr * update), a->Params + i);
            if (a->ZeroGrads)
            {
                Vector.Store(Vector<float>.Zero, a->Grads + i);
            }
        }

        // The tail repeats the vector body's arithmetic lane for lane (reciprocal corrections
        // included), so an element's update never depends on where a range cuts the buffer.
        float inv1 = 1f / a->Correction1, inv2 = 1f / a->Correction2;
        for (; i < end; i++)
        {
            float g = a->Grads[i] * a->GradScale;
            float m = (a->Beta1 * a->M[i]) + ((1f - a->Beta1) * g);
            float v = (a->Beta2 * a->V[i]) + ((1f - a->Beta2) * g * g);
            a->M[i] = m;
            a->V[i] = v;
            a->Params[i] -= a->Lr * (((m * inv1) / (MathF.Sqrt(v * inv2) + a->Eps)) + (a->WeightDecay * a->Params[i]));
            if (a->ZeroGrads)
            {
                a->Grads[i] = 0;
            }
        }
    }
}
