using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpGpt.Kernels;

/// <summary>GELU with the tanh approximation GPT-2 uses: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
/// Training's forward also writes GELU'(x), which shares most of its arithmetic with GELU(x), so the
/// backward is one multiply instead of recomputing the exponential; the derivative takes the place of
/// the pre-activation, which nothing else reads. Every element goes through the same vector formula
/// (tails through a padded vector), so a result does not depend on where a range is cut. The
/// forward writes fp32 or, for a bf16 matmul to read, bf16.</summary>
internal static unsafe class Gelu
{
    private const float Sqrt2OverPi = 0.7978845608028654f;
    private const float Cubic = 0.044715f;
    private const int Block = 4096;

    private struct Args
    {
        public TypedPointer Out;
        public float* Inp, DInp, DOut, Derivative;
        public long N;
    }

    // out (N) fp32 or bf16 <- inp (N)
    public static void Forward(ParallelRunner runner, TypedPointer output, float* inp, long n)
    {
        var args = new Args { Out = output, Inp = inp, N = n };
        runner.For((int)((n + Block - 1) / Block), &ForwardBlock, &args);
    }

    // out (N) fp32 or bf16, derivative (N) = GELU'(inp) <- inp (N); derivative may be inp
    public static void Forward(ParallelRunner runner, TypedPointer output, float* derivative, float* inp, long n)
    {
        var args = new Args { Out = output, Derivative = derivative, Inp = inp, N = n };
        runner.For((int)((n + Block - 1) / Block), &ForwardWithDerivativeBlock, &args);
    }

    // dinp (N) = <- derivative (N) = GELU'(x) from the forward, dout (N); overwrites, so no zeroing is needed before it; dinp may be dout
    public static void Backward(ParallelRunner runner, float* dinp, float* derivative, float* dout, long n)
    {
        var args = new Args { DInp = dinp, Derivative = derivative, DOut = dout, N = n };
        runner.For((int)((n + Block - 1) / Block), &BackwardBlock, &args);
    }

    /// <summary>out[i] = GELU(inp[i]) for i &lt; n, out fp32 or bf16 (rounded to nearest even), and
    /// derivative[i] = GELU'(inp[i]) unless derivative is null; derivative may be inp.</summary>
    internal static void ForwardSpan(TypedPointer output, float* derivative, float* inp, int n)
    {
        bool bf16 = output.IsBf16;
        float* o32 = bf16 ? null : output.Fp32;
        ushort* o16 = bf16 ? output.Bf16 : null;
        int w = Vector<float>.Count, i = 0;
        for (; i <= n - (2 * w); i += 2 * w)
        {
            var x = new Pair(Vector.Load(inp + i), Vector.Load(inp + i + w));
            var y = Value(x, derivative != null, out var d);
            if (bf16)
            {
                BFloat16.Store(y.A, o16 + i);
                BFloat16.Store(y.B, o16 + i + w);
            }
            else
            {
                y.A.Store(o32 + i);
                y.B.Store(o32 + i + w);
            }

            if (derivative != null)
            {
                d.A.Store(derivative + i);
                d.B.Store(derivative + i + w);
            }
        }

        if (i < n)
        {
            // The rest (under two vectors) through a zero-padded pair, the same formula lane by lane.
            float* x = stackalloc float[4 * w];
            new Span<float>(x, 2 * w).Clear();
            new Span<float>(inp + i, n - i).CopyTo(new Span<float>(x, 2 * w));
            var y = Value(new Pair(Vector.Load(x), Vector.Load(x + w)), derivative != null, out var d);
            y.A.Store(x);
            y.B.Store(x + w);
            d.A.Store(x + (2 * w));
            d.B.Store(x + (3 * w));
            if (bf16)
            {
                BFloat16.FromFloat(o16 + i, x, n - i);
            }
            else
            {
                new Span<float>(x, n - i).CopyTo(new Span<float>(o32 + i, n - i));
            }

            if (derivative != null)
            {
                new Span<float>(x + (2 * w), n - i).CopyTo(new Span<float>(derivative + i, n - i));
            }
        }
    }

    /// <summary>dinp[i] = derivative[i] dout[i] for i &lt; n, derivative being GELU'(x) from the forward; dinp may be dout.</summary>
    internal static void BackwardSpan(float* dinp, float* derivative, float* dout, int n)
    {
        int w = Vector<float>.Count, i = 0;
        for (; i <= n - w; i += w)
        {
            (Vector.Load(derivative + i) * Vector.Load(dout + i)).Store(dinp + i);
        }

        for (; i < n; i++)
        {
            dinp[i] = derivative[i] * dout[i];
        }
    }

    /// <summary>GELU(x) = x s with s = 1 / (1 + e^(-2u)); with <paramref name="wantDerivative"/>, also
    /// GELU'(x) = s + x s (1 - s) 2u', where s (1 - s) = e s^2 (accurate where s is near 1) and
    /// 2u' = 2 sqrt(2/pi) (1 + 3 0.044715 x^2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Pair Value(Pair x, bool wantDerivative, out Pair derivative)
    {
        var x2 = x * x;
        var e = ExpMinus2U(x, x2, out var pow2n) * pow2n;
        var s = Pair.Reciprocal(e + 1f);
        derivative = default;
        if (wantDerivative)
        {
            var du = Pair.Fma(x2, 6f * Cubic * Sqrt2OverPi, 2f * Sqrt2OverPi);
            derivative = Pair.Fma(x * du, e * s * s, s);
        }

        return x * s;
    }

    /// <summary>
    /// e^(-2u) = returned value * pow2n, u = sqrt(2/pi) (x + 0.044715 x^3): GELU is x s with s = 0.5 (1 + tanh u) = 1 / (1 + e^(-2u)).
    /// Shorter than <see cref="VectorMath.Exp"/>: the exponent is clamped to [-87, 88] (beyond, s is already
    /// 1 or below 1e-38), so no range or NaN selects; 2^n comes from the bits of the rounding sum; one-part
    /// ln 2 (|n| &lt;= 126 keeps r within 3e-7) and a degree-4 polynomial (Chebyshev fit, 8e-9) in Estrin's form.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Pair ExpMinus2U(Pair x, Pair x2, out Pair pow2n)
    {
        var y = x * Pair.Fma(x2, -2f * Sqrt2OverPi * Cubic, -2f * Sqrt2OverPi);
        y = Pair.Clamp(y, -87f, 88f);

        // t = 1.5 2^23 + 127 + round(y / ln 2): its low mantissa bits are the biased exponent of 2^n.
        var t = Pair.Fma(y, 1.44269504088896341f, 12583039f);
        var n = t - 12583039f;
        var r = Pair.Fma(n, -0.693147180559945f, y);
        var r2 = r * r;

        // e^r = 1 + r + r^2 p(r)
        var hi = Pair.Fma(r2, 0.00139261761199f, Pair.Fma(r, 0.00836317307451f, 0.0416665546621f));
        var p = Pair.Fma(hi, r2, Pair.Fma(r, 0.166665770256f, 0.5f));
        pow2n = Pair.Exp2(t);
        return Pair.Fma(p, r2, r + 1f);
    }

    /// <summary>
    /// Two vectors whose operators work lane by lane on both, interleaved: one element's GELU is a long
    /// dependency chain, and the out-of-order core only overlaps two chains when their instructions are near.
    /// </summary>
    private readonly struct Pair(Vector<float> a, Vector<float> b)
    {
        public readonly Vector<float> A = a, B = b;

        public static Pair operator +(Pair x, float c) => new(x.A + new Vector<float>(c), x.B + new Vector<float>(c));

        public static Pair operator -(Pair x, float c) => new(x.A - new Vector<float>(c), x.B - new Vector<float>(c));

        public static Pair operator *(Pair x, Pair y) => new(x.A * y.A, x.B * y.B);

        public static Pair Fma(Pair x, Pair y, Pair z) => new(Vector.FusedMultiplyAdd(x.A, y.A, z.A), Vector.FusedMultiplyAdd(x.B, y.B, z.B));

        public static Pair Fma(Pair x, float y, float z)
            => new(Vector.FusedMultiplyAdd(x.A, new Vector<float>(y), new Vector<float>(z)), Vector.FusedMultiplyAdd(x.B, new Vector<float>(y), new Vector<float>(z)));

        public static Pair Fma(Pair x, float y, Pair z)
            => new(Vector.FusedMultiplyAdd(x.A, new Vector<float>(y), z.A), Vector.FusedMultiplyAdd(x.B, new Vector<float>(y), z.B));

        public static Pair Fma(Pair x, Pair y, float z)
            => new(Vector.FusedMultiplyAdd(x.A, y.A, new Vector<float>(z)), Vector.FusedMultiplyAdd(x.B, y.B, new Vector<float>(z)));

        public static Pair Clamp(Pair x, float lo, float hi)
            => new(Vector.MinNative(Vector.MaxNative(x.A, new Vector<float>(lo)), new Vector<float>(hi)), Vector.MinNative(Vector.MaxNative(x.B, new Vector<float>(lo)), new Vector<float>(hi)));

        /// <summary>2^n from t = 1.5 2^23 + 127 + n: the low bits shifted into the exponent field.</summary>
        public static Pair Exp2(Pair t)
            => new(Vector.AsVectorSingle(Vector.ShiftLeft(Vector.AsVectorInt32(t.A), 23)), Vector.AsVectorSingle(Vector.ShiftLeft(Vector.AsVectorInt32(t.B), 23)));

        public static Pair Reciprocal(Pair d) => new(Gelu.Reciprocal(d.A), Gelu.Reciprocal(d.B));
    }

    /// <summary>1 / d for d in [1, 2e38], not a division: the hardware estimate refined by one Newton step (about 2 ulp); 0 where 1 / d is subnormal.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Reciprocal(Vector<float> d)
    {
        Vector<float> r0;
        if (Avx.IsSupported && Vector<float>.Count == Vector256<float>.Count)
        {
            r0 = Avx.Reciprocal(d.AsVector256()).AsVector();
        }
        else if (Avx512F.IsSupported && Vector<float>.Count == Vector512<float>.Count)
        {
            r0 = Avx512F.Reciprocal14(d.AsVector512()).AsVector();
        }
        else
        {
            return Vector<float>.One / d;
        }

        return r0 * Vector.FusedMultiplyAdd(-d, r0, new Vector<float>(2f));
    }

    private static void ForwardBlock(int part, void* p)
    {
        var a = (Args*)p;
        long start = (long)part * Block, end = Math.Min(a->N, start + Block);
        ForwardSpan(a->Out + start, null, a->Inp + start, (int)(end - start));
    }

    private static void ForwardWithDerivativeBlock(int part, void* p)
    {
        var a = (Args*)p;
        long start = (long)part * Block, end = Math.Min(a->N, start + Block);
        ForwardSpan(a->Out + start, a->Derivative + start, a->Inp + start, (int)(end - start));
    }

    private static void BackwardBlock(int part, void* p)
    {
        var a = (Args*)p;
        long start = (long)part * Block, end = Math.Min(a->N, start + Block);
        BackwardSpan(a->DInp + start, a->Derivative + start, a->DOut + start, (int)(end - start));
    }
}
