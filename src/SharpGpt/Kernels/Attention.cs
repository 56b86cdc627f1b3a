namespace SharpGpt.Kernels;

/// <summary>
/// Causal multi-head self-attention that keeps the softmax matrix (B, NH, T, T) for the backward,
/// as llm.c does. Simple and exact: the reference that flash attention is checked against.
/// </summary>
internal static unsafe class Attention
{
    private struct Args
    {
        public float* Out, Att, Qkv, DQkv, DOut, DAtt;
        public int B, T, C, NH;
    }

    public static long AttentionScratchSize(int b, int t, int nh) => (long)b * nh * t * t;

    // out (B,T,C), att (B,NH,T,T) <- qkv (B,T,3C) with q, k, v each split into NH heads of C/NH
    public static void Forward(ParallelRunner runner, float* output, float* att, float* qkv, int b, int t, int c, int nh)
    {
        var args = new Args { Out = output, Att = att, Qkv = qkv, B = b, T = t, C = c, NH = nh };
        runner.For(b * nh, &ForwardHead, &args);
    }

    private static void ForwardHead(int part, void* p)
    {
        var a = (Args*)p;
        int t = a->T, c = a->C, nh = a->NH, hs = c / nh, c3 = 3 * c;
        int b = part / nh, h = part % nh;
        float scale = 1f / MathF.Sqrt(hs);
        float* qkv = a->Qkv + ((long)b * t * c3);
        for (int i = 0; i < t; i++)
        {
            float* row = a->Att + ((((long)part * t) + i) * t);
            float* o = a->Out + ((long)b * t * c) + ((long)i * c) + (h * hs);
            AttendQuery(qkv + ((long)i * c3) + (h * hs), qkv + c + (h * hs), qkv + (2 * c) + (h * hs), c3, i + 1, hs, scale, row, o);
            new Span<float>(row + i + 1, t - i - 1).Clear();
        }
    }

    /// <summary>
    /// One query against keys/values 0..count-1 (rows <paramref name="stride"/> floats apart):
    /// probs (count) = softmax(q · k * scale), out (hs) = probs · v. Shared by this kernel and the
    /// KV-cache decoder so cached decoding rounds exactly as the full forward does.
    /// </summary>
    internal static void AttendQuery(float* q, float* keys, float* values, long stride, int count, int hs, float scale, float* probs, float* output)
    {
        float max = float.NegativeInfinity;
        for (int j = 0; j < count; j++)
        {
            float s = VectorMath.Dot(q, keys + (j * stride), hs) * scale;
            probs[j] = s;
            max = MathF.Max(max, s);
        }

        // Subtracting the max keeps exp() from overflowing for large scores.
        float sum = 0;
        for (int j = 0; j < count; j++)
        {
            float e = MathF.Exp(probs[j] - max);
            probs[j] = e;
            sum += e;
        }

        float inv = 1f / sum;
        new Span<float>(output, hs).Clear();
        for (int j = 0; j < count; j++)
        {
            float w = probs[j] *= inv;
            float* v = values + (j * stride);
            for (int d = 0; d < hs; d++)
            {
                output[d] += w * v[d];
            }
        }
    }

    // dqkv (B,T,3C) += <- dout (B,T,C), qkv, att; datt is scratch of one row per part (B*NH, T)
    public static void Backward(ParallelRunner runner, float* dqkv, float* datt, float* dout, float* qkv, float* att, int b, int t, int c, int nh)
    {
        var args = new Args { DQkv = dqkv, DAtt = datt, DOut = dout, Qkv = qkv, Att = att, B = b, T = t, C = c, NH = nh };
        runner.For(b * nh, &BackwardHead, &args);
    }

    public static long BackwardScratchSize(int b, int t, int nh) => (long)b * nh * t;

    private static void BackwardHead(int part, void* p)
    {
        var a = (Args*)p;
        int t = a->T, c = a->C, nh = a->NH, hs = c / nh, c3 = 3 * c;
        int b = part / nh, h = part % nh;
        float scale = 1f / MathF.Sqrt(hs);
        float* qkv = a->Qkv + ((long)b * t * c3);
        float* dqkv = a->DQkv + ((long)b * t * c3);
        float* datt = a->DAtt + ((long)part * t);
        for (int i = 0; i < t; i++)
        {
            float* row = a->Att + ((((long)part * t) + i) * t);
            float* dout = a->DOut + ((long)b * t * c) + ((long)i * c) + (h * hs);

            // out = att · v  =>  datt = dout · v^T, dv += att^T · dout
            for (int j = 0; j <= i; j++)
            {
                float* v = qkv + ((long)j * c3) + (2 * c) + (h * hs);
                float* dv = dqkv + ((long)j * c3) + (2 * c) + (h * hs);
                datt[j] = VectorMath.Dot(dout, v, hs);
                float w = row[j];
                for (int d = 0; d < hs; d++)
                {
                    dv[d] += w * dout[d];
                }
            }

            // softmax backward: dpre = att * (datt - sum(att * datt))
            float dot = 0;
            for (int j = 0; j <= i; j++)
            {
                dot += row[j] * datt[j];
            }

            float* q = qkv + ((long)i * c3) + (h * hs);
            float* dq = dqkv + ((long)i * c3) + (h * hs);
            for (int j = 0; j <= i; j++)
            {
                float dpre = row[j] * (datt[j] - dot) * scale;
                float* k = qkv + ((long)j * c3) + c + (h * hs);
                float* dk = dqkv + ((long)j * c3) + c + (h * hs);
                for (int d = 0; d < hs; d++)
                {
                    dq[d] += dpre * k[d];
                    dk[d] += dpre * q[d];
                }
            }
        }
    }
}
