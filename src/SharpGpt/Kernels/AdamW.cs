using System.Numerics;
using System.Runtime.CompilerServices;

namespace SharpGpt.Kernels;

/// <summary>
/// AdamW in one pass over the contiguous parameter buffer, in llm.c's form:
/// p -= lr * (mhat / (sqrt(vhat) + eps) + wd * p), with the gradient scaled first (for clipping).
/// </summary>
internal static unsafe class AdamW
{
    private const int Block = 16384;

    private struct Args
    {
        public float* Params, Grads, M, V;
        public long Count;
        public Rule Rule;
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
            Rule = new Rule(lr, beta1, beta2, eps, weightDecay, step, gradScale),
            ZeroGrads = zeroGrads,
        };
        runner.For((int)((count + Block - 1) / Block), &UpdateBlock, &args);
    }

    private static void UpdateBlock(int part, void* p)
    {
        var a = (Args*)p;
        long start = (long)part * Block, end = Math.Min(a->Count, start + Block);
        var rule = a->Rule;
        long i = start;
        for (; i <= end - Vector<float>.Count; i += Vector<float>.Count)
        {
            var m = Vector.Load(a->M + i);
            var v = Vector.Load(a->V + i);
            var w = rule.Apply(Vector.Load(a->Grads + i), ref m, ref v, Vector.Load(a->Params + i));
            Vector.Store(m, a->M + i);
            Vector.Store(v, a->V + i);
            Vector.Store(w, a->Params + i);
            if (a->ZeroGrads)
            {
                Vector.Store(Vector<float>.Zero, a->Grads + i);
            }
        }

        for (; i < end; i++)
        {
            a->Params[i] = rule.Apply(a->Grads[i], ref a->M[i], ref a->V[i], a->Params[i]);
            if (a->ZeroGrads)
            {
                a->Grads[i] = 0;
            }
        }
    }

    /// <summary>
    /// One update's constants and its arithmetic, for a vector or one element. Every AdamW in the
    /// project (this kernel, the thread ranks' sliced update) goes through it, and the element form
    /// repeats the vector form lane for lane (reciprocal bias corrections included), so an element's
    /// update never depends on who updates it or where a range cuts the buffer.
    /// </summary>
    internal readonly struct Rule
    {
        private readonly float _lr, _beta1, _beta2, _eps, _weightDecay, _gradScale, _inv1, _inv2;

        public Rule(float lr, float beta1, float beta2, float eps, float weightDecay, int step, float gradScale)
        {
            (_lr, _beta1, _beta2, _eps, _weightDecay, _gradScale) = (lr, beta1, beta2, eps, weightDecay, gradScale);
            _inv1 = 1f / (1f - MathF.Pow(beta1, step));
            _inv2 = 1f / (1f - MathF.Pow(beta2, step));
        }

        /// <summary>The same rule with another weight decay (tensors differ in it).</summary>
        public Rule WithWeightDecay(float weightDecay) => new(this, weightDecay);

        private Rule(in Rule rule, float weightDecay)
        {
            this = rule;
            _weightDecay = weightDecay;
        }

        /// <summary>Updates the moments in place and returns the new weights.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<float> Apply(Vector<float> grad, ref Vector<float> m, ref Vector<float> v, Vector<float> w)
        {
            var g = grad * new Vector<float>(_gradScale);
            m = (new Vector<float>(_beta1) * m) + (new Vector<float>(1f - _beta1) * g);
            v = (new Vector<float>(_beta2) * v) + (new Vector<float>(1f - _beta2) * g * g);
            var update = ((m * new Vector<float>(_inv1)) / (Vector.SquareRoot(v * new Vector<float>(_inv2)) + new Vector<float>(_eps)))
                + (new Vector<float>(_weightDecay) * w);
            return w - (new Vector<float>(_lr) * update);
        }

        /// <summary><see cref="Apply(Vector{float}, ref Vector{float}, ref Vector{float}, Vector{float})"/> for one element.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Apply(float grad, ref float m, ref float v, float w)
        {
            float g = grad * _gradScale;
            m = (_beta1 * m) + ((1f - _beta1) * g);
            v = (_beta2 * v) + ((1f - _beta2) * g * g);
            return w - (_lr * (((m * _inv1) / (MathF.Sqrt(v * _inv2) + _eps)) + (_weightDecay * w)));
        }
    }
}
