using SharpGpt.Gpu.Check;
using SharpGpt.Kernels;
using SharpGpt.Model;
namespace SharpGpt.Tests.Gpu;

/// <summary>The GPU's attention (materialised scores, strided-batched products) against the CPU's flash attention.</summary>
public sealed unsafe class GpuAttentionTests(EmulatedGpu gpu) : GpuTwinTest(gpu)
{
    [Theory]
    [InlineData(2, 1, 32, 2, false)]
    [InlineData(2, 7, 32, 2, false)]
    [InlineData(1, 23, 48, 3, false)]
    [InlineData(3, 5, 12, 3, false)]
    [InlineData(1, 7, 32, 2, true)]
    public void ForwardAndBackwardMatchTheCpu(int b, int t, int c, int nh, bool nvidiaWarps)
    {
        var rng = new Random(b + t + c);
        using var twin = CreateTwin(nvidiaWarps);
        long nc = (long)b * t * c;
        var qkv = twin.Floats(DeviceArrays.Random(rng, 3 * nc, 2f));
        var output = twin.Zeros(nc);
        var state = new FloatPair(
            twin.Zeros(twin.Cpu.AttentionStateSize(b, t, nh)).Cpu,
            twin.Zeros(twin.Gpu.AttentionStateSize(b, t, nh)).Gpu);
        twin.Cpu.AttentionForward(output.Cpu, state.Cpu, qkv.Cpu, b, t, c, nh);
        twin.Gpu.AttentionForward(output.Gpu, state.Gpu, qkv.Gpu, b, t, c, nh);
        twin.AssertClose(output, nc, 1e-5, 1e-6, "attention output");

        var dout = twin.Floats(DeviceArrays.Random(rng, nc));
        var dqkv = twin.Floats(DeviceArrays.Random(rng, 3 * nc)); // overwritten
        var scratch = new FloatPair(
            twin.Zeros(twin.Cpu.AttentionScratchSize(b, t, c, nh)).Cpu,
            twin.Zeros(twin.Gpu.AttentionScratchSize(b, t, c, nh)).Gpu);
        twin.Cpu.AttentionBackward(dqkv.Cpu, scratch.Cpu, dout.Cpu, qkv.Cpu, output.Cpu, state.Cpu, b, t, c, nh);
        twin.Gpu.AttentionBackward(dqkv.Gpu, scratch.Gpu, dout.Gpu, qkv.Gpu, output.Gpu, state.Gpu, b, t, c, nh);
        twin.AssertClose(dqkv, 3 * nc, 1e-4, 1e-5, "dqkv");
    }

    /// <summary>For a bf16 model the GPU runs attention's products on bf16 operands: against the CPU's fp32
    /// attention of the same rounded inputs, only P's and dS's rounding separate them.</summary>
    [Theory]
    [InlineData(2, 7, 32, 2)]
    [InlineData(1, 23, 48, 3)]
    public void Bf16AttentionIsTheCpusOfTheRoundedInputs(int b, int t, int c, int nh)
    {
        var rng = new Random(b * t * c);
        using var twin = CreateTwin();
        long nc = (long)b * t * c;
        float[] x = DeviceArrays.Random(rng, 3 * nc, 2f), g = DeviceArrays.Random(rng, nc);
        float[] Round(float[] v) => [.. v.Select(f => BFloat16.ToFloat(BFloat16.FromFloat(f)))];
        var qkv = new FloatPair(twin.Floats(Round(x)).Cpu, twin.Floats(x).Gpu);
        var dout = new FloatPair(twin.Floats(Round(g)).Cpu, twin.Floats(g).Gpu);
        var output = twin.Zeros(nc);
        var state = new FloatPair(twin.Zeros(twin.Cpu.AttentionStateSize(b, t, nh)).Cpu, twin.Zeros(twin.Gpu.AttentionStateSize(b, t, nh, Precision.Bf16)).Gpu);
        var scratch = new FloatPair(twin.Zeros(twin.Cpu.AttentionScratchSize(b, t, c, nh)).Cpu, twin.Zeros(twin.Gpu.AttentionScratchSize(b, t, c, nh, Precision.Bf16)).Gpu);
        var dqkv = twin.Zeros(3 * nc);
        twin.Cpu.AttentionForward(output.Cpu, state.Cpu, qkv.Cpu, b, t, c, nh);
        twin.Gpu.AttentionForward(output.Gpu, state.Gpu, qkv.Gpu, b, t, c, nh, Precision.Bf16);
        twin.AssertClose(output, nc, 1e-2, 1e-2, "bf16 attention output"); // P rounded to 2^-9 relative, times |V| <= 2
        twin.Cpu.AttentionBackward(dqkv.Cpu, scratch.Cpu, dout.Cpu, qkv.Cpu, output.Cpu, state.Cpu, b, t, c, nh);
        twin.Gpu.AttentionBackward(dqkv.Gpu, scratch.Gpu, dout.Gpu, qkv.Gpu, output.Gpu, state.Gpu, b, t, c, nh, Precision.Bf16);
        twin.AssertClose(dqkv, 3 * nc, 2e-2, 2e-2, "bf16 attention dqkv");
        Assert.Equal((b * nh * t * t + 1) / 2, twin.Gpu.AttentionStateSize(b, t, nh, Precision.Bf16));
    }

    [Theory]
    [InlineData(0, 7, 32, 2, 16)]
    [InlineData(5, 1, 48, 3, 16)]
    [InlineData(3, 4, 12, 3, 9)]
    public void CachedAttentionMatchesTheCpu(int start, int n, int c, int nh, int maxT)
    {
        var rng = new Random(start + n);
        using var twin = CreateTwin();
        long cache = (long)maxT * c;
        // The cache already holds positions 0..start-1.
        float[] filled = DeviceArrays.Random(rng, cache);
        var keys = twin.Floats(filled);
        var values = twin.Floats([.. filled.Reverse()]);
        var qkv = twin.Floats(DeviceArrays.Random(rng, 3L * n * c, 2f));
        var output = twin.Zeros((long)n * c);
        var scratch = new FloatPair(
            twin.Zeros(twin.Cpu.CachedAttentionScratchSize(nh, maxT)).Cpu,
            twin.Zeros(twin.Gpu.CachedAttentionScratchSize(nh, maxT)).Gpu);
        twin.Cpu.CachedAttentionForward(output.Cpu, qkv.Cpu, keys.Cpu, values.Cpu, scratch.Cpu, start, n, c, nh, maxT);
        twin.Gpu.CachedAttentionForward(output.Gpu, qkv.Gpu, keys.Gpu, values.Gpu, scratch.Gpu, start, n, c, nh, maxT);
        twin.AssertEqual(keys, cache, "key cache");
        twin.AssertEqual(values, cache, "value cache");
        twin.AssertClose(output, (long)n * c, 1e-5, 1e-6, "cached attention output");
    }
}
