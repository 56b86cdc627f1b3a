using System.Numerics;

namespace SharpGpt.Kernels;

/// <summary>Token + position embedding: out[b,t,:] = wte[inputs[b,t],:] + wpe[t,:].</summary>
internal static unsafe class Encoder
{
    private struct Args
    {
        public float* Out, Wte, Wpe, DOut, DWte, DWpe;
        public int* Inputs;
        public int B, T, C, Chunk;
    }

    // (B,T,C) <- (B,T) ids, wte (Vp,C), wpe (maxT,C)
    public static void Forward(ParallelRunner runner, float* output, int* inputs, float* wte, float* wpe, int b, int t, int c)
    {
        var args = new Args { Out = output, Inputs = inputs, Wte = wte, Wpe = wpe, B = b, T = t, C = c };
        runner.For(b * t, &ForwardRow, &args);
    }

    private static void ForwardRow(int bt, void* p)
    {
        var a = (Args*)p;
        int c = a->C;
        float* o = a->Out + (long)bt * c;
        float* w = a->Wte + (long)a->Inputs[bt] * c;
        float* pos = a->Wpe + (long)(bt % a->T) * c;
        int i = 0;
        for (; i <= c - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector.Store(Vector.Load(w + i) + Vector.Load(pos + i), o + i);
        }

        for (; i < c; i++)
        {
            o[i] = w[i] + pos[i];
        }
    }

    // dwte (Vp,C), dwpe (maxT,C) += from dout (B,T,C). Parts own channel slices so the
    // scatter-add over repeated tokens stays deterministic.
    public static void Backward(ParallelRunner runner, float* dwte, float* dwpe, float* dout, int* inputs, int b, int t, int c)
    {
        int chunk = Math.Max(Vector<float>.Count, (c / (runner.Threads * 4) + 7) & ~7);
        var args = new Args { DWte = dwte, DWpe = dwpe, DOut = dout, Inputs = inputs, B = b, T = t, C = c, Chunk = chunk };
        runner.For((c + chunk - 1) / chunk, &BackwardSlice, &args);
    }

    private static void BackwardSlice(int part, void* p)
    {
        var a = (Args*)p;
        int c = a->C;
        int start = part * a->Chunk;
        int end = Math.Min(c, start + a->Chunk);
        for (int bt = 0; bt < a->B * a->T; bt++)
        {
            float* d = a->DOut + (long)bt * c;
            float* dw = a->DWte + (long)a->Inputs[bt] * c;
            float* dp = a->DWpe + (long)(bt % a->T) * c;
            for (int i = start; i < end; i++)
            {
                dw[i] += d[i];
                dp[i] += d[i];
            }
        }
    }
}
