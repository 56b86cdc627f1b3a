using SharpGpt.Kernels;
using SharpGpt.Model;

namespace SharpGpt.Gpu.Check;

/// <summary>
/// gpu-check's smoke test: every GPU kernel, and every matrix product shape of a small model (fp32
/// and bf16), run on random data on the GPU and on the CPU backend, compared. The bounds allow for
/// the GPU's other order of summation and its ex2/lg2; a kernel that is wrong misses them by far.
/// </summary>
internal static unsafe class GpuSmokeTest
{
    private const int B = 3, T = 23, C = 64, NH = 4, V = 100, VP = 128;

    public static IReadOnlyList<TwinDifference> Run(IGptKernels gpu, IGptKernels cpu)
    {
        using var twin = new KernelTwin(cpu, gpu);
        var rng = new Random(1234);
        float[] Random(long n, float scale = 1f) => [.. Enumerable.Range(0, checked((int)n)).Select(_ => (float)(((2 * rng.NextDouble()) - 1) * scale))];
        var results = new List<TwinDifference>();
        const int n = B * T;
        const long nc = (long)n * C;

        // Encoder: bit for bit (the same additions in the same order).
        var ids = twin.Ints([.. Enumerable.Range(0, n).Select(_ => rng.Next(V))]);
        var wte = twin.Floats(Random((long)VP * C));
        var wpe = twin.Floats(Random((long)T * C));
        var encoded = twin.Zeros(nc);
        Both(twin, k => k.EncoderForward(P(k, encoded), I(k, ids), P(k, wte), P(k, wpe), B, T, C));
        results.Add(twin.Compare("encoder forward", encoded, nc, 0, 0));
        var dwte = twin.Floats(Random((long)VP * C));
        var dwpe = twin.Floats(Random((long)T * C));
        var dout = twin.Floats(Random(nc));
        Both(twin, k => k.EncoderBackward(P(k, dwte), P(k, dwpe), P(k, dout), I(k, ids), B, T, C));
        results.Add(twin.Compare("encoder backward (wte)", dwte, (long)VP * C, 0, 0));
        results.Add(twin.Compare("encoder backward (wpe)", dwpe, (long)T * C, 0, 0));

        // LayerNorm with the residual add, fp32 and bf16 out, and its backward.
        var a = twin.Floats(Random(nc, 2f));
        var b = twin.Floats(Random(nc, 2f));
        var weight = twin.Floats(Random(C));
        var bias = twin.Floats(Random(C));
        var residual = twin.Zeros(nc);
        var normed = twin.Zeros(nc);
        var normed16 = twin.Bf16Zeros(nc);
        var mean = twin.Zeros(n);
        var rstd = twin.Zeros(n);
        Both(twin, k => k.LayerNormResidualForward(P(k, residual), P(k, normed), P(k, mean), P(k, rstd), P(k, a), P(k, b), P(k, weight), P(k, bias), n, C));
        results.Add(twin.Compare("residual + layernorm forward (sum)", residual, nc, 0, 0));
        results.Add(twin.Compare("residual + layernorm forward", normed, nc, 1e-4, 1e-5));
        Both(twin, k => k.LayerNormForward(H(k, normed16), P(k, mean), P(k, rstd), P(k, residual), P(k, weight), P(k, bias), n, C));
        results.Add(twin.Compare("layernorm forward (bf16 out)", normed16, nc, 1.0 / 128, 1e-5));
        var dinp = twin.Floats(Random(nc));
        var dweight = twin.Floats(Random(C));
        var dbias = twin.Floats(Random(C));
        Both(twin, k => k.LayerNormBackward(P(k, dinp), P(k, dweight), P(k, dbias), P(k, dout), P(k, residual), P(k, weight), P(k, mean), P(k, rstd), n, C));
        results.Add(twin.Compare("layernorm backward (dinp)", dinp, nc, 1e-4, 1e-4));
        results.Add(twin.Compare("layernorm backward (dweight)", dweight, C, 1e-4, 1e-4));
        results.Add(twin.Compare("layernorm backward (dbias)", dbias, C, 1e-4, 1e-4));

        // Every product shape of a block and the classifier, fp32 and bf16.
        foreach (var (name, inC, outC, withBias) in new[] { ("qkv", C, 3 * C, true), ("attproj", C, C, true), ("fc", C, 4 * C, true), ("fcproj", 4 * C, C, true), ("lm_head", C, VP, false) })
        {
            results.AddRange(Matmul(twin, Random, name, inC, outC, withBias, bf16: false));
            results.AddRange(Matmul(twin, Random, name, inC, outC, withBias, bf16: true));
        }

        // Matmul with GELU, forward and backward through the fc projection (each backend with its own
        // saved state: the CPU keeps GELU'(x), the GPU x), fp32 and bf16; then GELU alone.
        var x = twin.Floats(Random(nc, 2f));
        var fcW = twin.Floats(Random(4L * C * C, 0.3f));
        var fcB = twin.Floats(Random(4 * C));
        var projW = twin.Floats(Random(4L * C * C, 0.3f));
        var dproj = twin.Floats(Random(nc));
        var geluState = twin.Zeros(4 * nc);
        var activated = twin.Zeros(4 * nc);
        var dfc = twin.Zeros(4 * nc);
        var dprojW = twin.Zeros(4L * C * C);
        var dprojB = twin.Zeros(C);
        Both(twin, k => k.MatmulGeluForward(P(k, geluState), P(k, activated), P(k, x), P(k, fcW), P(k, fcB), n, C, 4 * C));
        results.Add(twin.Compare("matmul + gelu forward", activated, 4 * nc, 1e-4, 1e-4));
        Both(twin, k => k.MatmulGeluBackward(P(k, dfc), P(k, dprojW), P(k, dprojB), P(k, dproj), P(k, activated), P(k, geluState), P(k, projW), n, 4 * C, C));
        results.Add(twin.Compare("matmul + gelu backward (dx)", dfc, 4 * nc, 1e-4, 1e-4));
        results.Add(twin.Compare("matmul + gelu backward (dweight)", dprojW, 4L * C * C, 1e-4, 1e-4));
        var x16 = twin.Bf16(Random(nc, 2f));
        var fcW16 = twin.Bf16(Random(4L * C * C, 0.3f));
        var projW16 = twin.Bf16(Random(4L * C * C, 0.3f));
        var activated16 = twin.Bf16Zeros(4 * nc);
        Both(twin, k => k.MatmulGeluForward(P(k, geluState), H(k, activated16), H(k, x16), H(k, fcW16), P(k, fcB), n, C, 4 * C));
        results.Add(twin.Compare("matmul + gelu forward (bf16)", activated16, 4 * nc, 1.0 / 64, 1e-3));
        Both(twin, k => k.MatmulGeluBackward(P(k, dfc), P(k, dprojW), P(k, dprojB), P(k, dproj), H(k, activated16), P(k, geluState), H(k, projW16), n, 4 * C, C));
        results.Add(twin.Compare("matmul + gelu backward (bf16, dx)", dfc, 4 * nc, 2e-2, 2e-2));
        var pre = twin.Floats(Random(4 * nc, 3f));
        var derivative = twin.Zeros(4 * nc);
        var gelu = twin.Zeros(4 * nc);
        Both(twin, k => k.GeluForward(P(k, gelu), P(k, derivative), P(k, pre), 4 * nc));
        results.Add(twin.Compare("gelu forward", gelu, 4 * nc, 1e-4, 1e-5));
        results.Add(twin.Compare("gelu forward (derivative)", derivative, 4 * nc, 1e-4, 1e-5));
        var dgelu = twin.Floats(Random(4 * nc));
        var dx = twin.Zeros(4 * nc);
        Both(twin, k => k.GeluBackward(P(k, dx), P(k, derivative), P(k, dgelu), 4 * nc));
        results.Add(twin.Compare("gelu backward", dx, 4 * nc, 1e-4, 1e-5));
        var sum = twin.Zeros(nc);
        Both(twin, k => k.ResidualForward(P(k, sum), P(k, a), P(k, b), nc));
        results.Add(twin.Compare("residual forward", sum, nc, 0, 0));

        // Attention, forward and backward (each backend with its own saved state).
        var qkv = twin.Floats(Random(3 * nc, 2f));
        var attended = twin.Zeros(nc);
        var state = new FloatPair(twin.Zeros(cpu.AttentionStateSize(B, T, NH)).Cpu, twin.Zeros(gpu.AttentionStateSize(B, T, NH)).Gpu);
        Both(twin, k => k.AttentionForward(P(k, attended), P(k, state), P(k, qkv), B, T, C, NH));
        results.Add(twin.Compare("attention forward", attended, nc, 1e-4, 1e-5));
        var dqkv = twin.Zeros(3 * nc);
        var scratch = new FloatPair(twin.Zeros(cpu.AttentionScratchSize(B, T, C, NH)).Cpu, twin.Zeros(gpu.AttentionScratchSize(B, T, C, NH)).Gpu);
        Both(twin, k => k.AttentionBackward(P(k, dqkv), P(k, scratch), P(k, dout), P(k, qkv), P(k, attended), P(k, state), B, T, C, NH));
        results.Add(twin.Compare("attention backward", dqkv, 3 * nc, 1e-3, 1e-4));

        // bf16 attention (a bf16 model's: its products on bf16 operands) against the CPU's of the same rounded inputs.
        float[] Round(float[] values) => [.. values.Select(f => BFloat16.ToFloat(BFloat16.FromFloat(f)))];
        float[] qkvData = Random(3 * nc, 2f), doutData = Random(nc, 1f);
        var qkv16 = new FloatPair(twin.Floats(Round(qkvData)).Cpu, twin.Floats(qkvData).Gpu);
        var dout16 = new FloatPair(twin.Floats(Round(doutData)).Cpu, twin.Floats(doutData).Gpu);
        var attended16 = twin.Zeros(nc);
        var dqkv16 = twin.Zeros(3 * nc);
        var state16 = new FloatPair(twin.Zeros(cpu.AttentionStateSize(B, T, NH)).Cpu, twin.Zeros(gpu.AttentionStateSize(B, T, NH, Precision.Bf16)).Gpu);
        var scratch16 = new FloatPair(twin.Zeros(cpu.AttentionScratchSize(B, T, C, NH)).Cpu, twin.Zeros(gpu.AttentionScratchSize(B, T, C, NH, Precision.Bf16)).Gpu);
        cpu.AttentionForward(attended16.Cpu, state16.Cpu, qkv16.Cpu, B, T, C, NH);
        gpu.AttentionForward(attended16.Gpu, state16.Gpu, qkv16.Gpu, B, T, C, NH, Precision.Bf16);
        results.Add(twin.Compare("attention forward (bf16)", attended16, nc, 1e-2, 1e-2));
        cpu.AttentionBackward(dqkv16.Cpu, scratch16.Cpu, dout16.Cpu, qkv16.Cpu, attended16.Cpu, state16.Cpu, B, T, C, NH);
        gpu.AttentionBackward(dqkv16.Gpu, scratch16.Gpu, dout16.Gpu, qkv16.Gpu, attended16.Gpu, state16.Gpu, B, T, C, NH, Precision.Bf16);
        results.Add(twin.Compare("attention backward (bf16)", dqkv16, 3 * nc, 2e-2, 2e-2));

        // A sequence long enough for the GPU's causal blocks (T >= 256 on a GPU), fp32 and bf16.
        foreach (var precision in new[] { Precision.Fp32, Precision.Bf16 })
        {
            const int LongT = 320;
            const long ln = (long)LongT * C;
            string name = precision == Precision.Bf16 ? " (bf16)" : "";
            float[] longQkv = Random(3 * ln, 2f), longDout = Random(ln);
            var lq = precision == Precision.Bf16 ? new FloatPair(twin.Floats(Round(longQkv)).Cpu, twin.Floats(longQkv).Gpu) : twin.Floats(longQkv);
            var ld = precision == Precision.Bf16 ? new FloatPair(twin.Floats(Round(longDout)).Cpu, twin.Floats(longDout).Gpu) : twin.Floats(longDout);
            var lo = twin.Zeros(ln);
            var ldq = twin.Zeros(3 * ln);
            var ls = new FloatPair(twin.Zeros(cpu.AttentionStateSize(1, LongT, NH)).Cpu, twin.Zeros(gpu.AttentionStateSize(1, LongT, NH, precision)).Gpu);
            var lx = new FloatPair(twin.Zeros(cpu.AttentionScratchSize(1, LongT, C, NH)).Cpu, twin.Zeros(gpu.AttentionScratchSize(1, LongT, C, NH, precision)).Gpu);
            cpu.AttentionForward(lo.Cpu, ls.Cpu, lq.Cpu, 1, LongT, C, NH);
            gpu.AttentionForward(lo.Gpu, ls.Gpu, lq.Gpu, 1, LongT, C, NH, precision);
            double tolerance = precision == Precision.Bf16 ? 2e-2 : 1e-4;
            results.Add(twin.Compare($"attention forward, T={LongT}{name}", lo, ln, tolerance, tolerance));
            cpu.AttentionBackward(ldq.Cpu, lx.Cpu, ld.Cpu, lq.Cpu, lo.Cpu, ls.Cpu, 1, LongT, C, NH);
            gpu.AttentionBackward(ldq.Gpu, lx.Gpu, ld.Gpu, lq.Gpu, lo.Gpu, ls.Gpu, 1, LongT, C, NH, precision);
            results.Add(twin.Compare($"attention backward, T={LongT}{name}", ldq, 3 * ln, precision == Precision.Bf16 ? 2e-2 : 1e-3, tolerance));
        }

        // Cross-entropy over a padded vocabulary with masked rows.
        var logits = twin.Floats(Random((long)n * VP, 6f));
        var targets = twin.Ints([.. Enumerable.Range(0, n).Select(i => i % 5 == 2 ? -1 : rng.Next(V))]);
        var losses = twin.Zeros(n);
        var lse = twin.Zeros(n);
        Both(twin, k => k.CrossEntropyForward(P(k, losses), P(k, lse), P(k, logits), I(k, targets), n, V, VP));
        results.Add(twin.Compare("crossentropy forward", losses, n, 1e-5, 1e-5));
        Both(twin, k => k.CrossEntropyBackward(P(k, logits), P(k, lse), I(k, targets), 0.25f, n, V, VP));
        results.Add(twin.Compare("crossentropy backward", logits, (long)n * VP, 1e-4, 1e-6));

        // The classifier's backward (cross-entropy, then the lm_head's products), fp32 and bf16: a bf16
        // model's gradient of the logits is written once, in bf16, for the products.
        foreach (var precision in new[] { Precision.Fp32, Precision.Bf16 })
        {
            bool half = precision == Precision.Bf16;
            var chunk = twin.Floats(Random((long)n * VP, 6f));
            var chunkLse = twin.Zeros(n);
            Both(twin, k => k.CrossEntropyForward(P(k, losses), P(k, chunkLse), P(k, chunk), I(k, targets), n, V, VP));
            float[] lnfData = Random(nc), wteData = Random((long)VP * C);
            var lnf32 = twin.Floats(lnfData);
            var wte32 = twin.Floats(wteData);
            var lnf16 = twin.Bf16(lnfData);
            var wte16 = twin.Bf16(wteData);
            var dlnf = twin.Zeros(nc);
            var dwteHead = twin.Zeros((long)VP * C);
            Both(twin, k => k.ClassifierBackward(P(k, dlnf), P(k, dwteHead), P(k, chunk), P(k, chunkLse), I(k, targets), 0.25f,
                half ? H(k, lnf16) : P(k, lnf32), half ? H(k, wte16) : P(k, wte32), n, C, V, VP));
            string name = half ? " (bf16)" : "";
            results.Add(twin.Compare($"classifier backward{name} (dlnf)", dlnf, nc, half ? 1e-2 : 1e-4, half ? 2e-3 : 1e-6));
            results.Add(twin.Compare($"classifier backward{name} (dwte)", dwteHead, (long)VP * C, half ? 1e-2 : 1e-4, half ? 2e-3 : 1e-6));
        }

        // bf16 conversions, the row gather, AdamW (bit for bit: the CPU's rule) and the norm.
        var wide = twin.Zeros(nc);
        Both(twin, k => k.Convert(P(k, wide), H(k, normed16), nc));
        var rounded = twin.Bf16Zeros(nc);
        Both(twin, k => k.Convert(H(k, rounded), P(k, a), nc));
        results.Add(twin.Compare("convert fp32 -> bf16", rounded, nc, 0, 0));
        var rows = twin.Ints([5, 0, n - 1, 5]);
        var gathered = twin.Zeros(4L * C);
        Both(twin, k => k.GatherRows(P(k, gathered), P(k, a), I(k, rows), 4, C));
        results.Add(twin.Compare("gather rows", gathered, 4L * C, 0, 0));
        var p = twin.Floats(Random(nc));
        var g = twin.Floats(Random(nc, 3f));
        var m = twin.Floats(Random(nc, 0.1f));
        var v = twin.Floats([.. Random(nc, 0.1f).Select(MathF.Abs)]);
        Both(twin, k => k.AdamWUpdate(P(k, p), P(k, g), P(k, m), P(k, v), nc, 6e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 3, 0.5f, zeroGradients: false));
        results.Add(twin.Compare("adamw (weights)", p, nc, 0, 0));
        results.Add(twin.Compare("adamw (second moments)", v, nc, 0, 0));
        double cpuNorm = cpu.SquareSum(g.Cpu, nc), gpuNorm = gpu.SquareSum(g.Gpu, nc);
        results.Add(TwinDifference.Of("gradient square sum", [(float)cpuNorm], [(float)gpuNorm], 1e-6, 0));

        // Decoding with a cache: 5 positions cached, 3 new.
        const int maxT = 16, start = 5, fresh = 3;
        var keys = twin.Floats(Random((long)maxT * C));
        var values = twin.Floats(Random((long)maxT * C));
        var newQkv = twin.Floats(Random(3L * fresh * C, 2f));
        var decoded = twin.Zeros((long)fresh * C);
        var cacheScratch = new FloatPair(twin.Zeros(cpu.CachedAttentionScratchSize(NH, maxT)).Cpu, twin.Zeros(gpu.CachedAttentionScratchSize(NH, maxT)).Gpu);
        Both(twin, k => k.CachedAttentionForward(P(k, decoded), P(k, newQkv), P(k, keys), P(k, values), P(k, cacheScratch), start, fresh, C, NH, maxT));
        results.Add(twin.Compare("cached attention", decoded, (long)fresh * C, 1e-4, 1e-5));
        return results;
    }

    // out (N,OC) = inp · W^T (+ bias), then its backward, on both; in bf16 the CPU gets the gradient rounded as the GPU rounds it.
    private static List<TwinDifference> Matmul(KernelTwin twin, Func<long, float, float[]> random, string name, int c, int oc, bool withBias, bool bf16)
    {
        const int n = B * T;
        long nIn = (long)n * c, nOut = (long)n * oc;
        string label = $"matmul {name} {(bf16 ? "bf16" : "fp32")} ({n}x{c} · {c}x{oc})";
        float[] x = random(nIn, 1f), w = random((long)oc * c, 0.3f), gradient = random(nOut, 1f);
        var bias = withBias ? twin.Floats(random(oc, 1f)) : new FloatPair(null, null);
        var output = twin.Zeros(nOut);
        var dinp = twin.Zeros(nIn);
        var dweight = twin.Zeros((long)oc * c);
        var dbias = withBias ? twin.Zeros(oc) : new FloatPair(null, null);
        if (bf16)
        {
            var inp = twin.Bf16(x);
            var weight = twin.Bf16(w);
            float[] roundedGradient = [.. gradient.Select(f => BFloat16.ToFloat(BFloat16.FromFloat(f)))];
            var dout = new FloatPair(twin.Floats(roundedGradient).Cpu, twin.Floats(gradient).Gpu);
            Both(twin, k => k.MatmulForward(P(k, output), H(k, inp), H(k, weight), P(k, bias), n, c, oc));
            Both(twin, k => k.MatmulBackward(P(k, dinp), P(k, dweight), P(k, dbias), P(k, dout), H(k, inp), H(k, weight), n, c, oc));
        }
        else
        {
            var inp = twin.Floats(x);
            var weight = twin.Floats(w);
            var dout = twin.Floats(gradient);
            Both(twin, k => k.MatmulForward(P(k, output), P(k, inp), P(k, weight), P(k, bias), n, c, oc));
            Both(twin, k => k.MatmulBackward(P(k, dinp), P(k, dweight), P(k, dbias), P(k, dout), P(k, inp), P(k, weight), n, c, oc));
        }

        List<TwinDifference> results =
        [
            twin.Compare($"{label} forward", output, nOut, 1e-4, 1e-4),
            twin.Compare($"{label} dinp", dinp, nIn, 1e-4, 1e-4),
            twin.Compare($"{label} dweight", dweight, (long)oc * c, 1e-4, 1e-3),
        ];
        if (withBias && !bf16)
        {
            results.Add(twin.Compare($"{label} dbias", dbias, oc, 1e-4, 1e-4));
        }

        return results;
    }

    private static void Both(KernelTwin twin, Action<IGptKernels> run)
    {
        run(twin.Cpu);
        run(twin.Gpu);
    }

    private static float* P(IGptKernels k, FloatPair pair) => k is CpuKernels ? pair.Cpu : pair.Gpu;

    private static int* I(IGptKernels k, IntPair pair) => k is CpuKernels ? pair.Cpu : pair.Gpu;

    private static ushort* H(IGptKernels k, Bf16Pair pair) => k is CpuKernels ? pair.Cpu : pair.Gpu;
}
