using SharpGpt.Gpu.Check;
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
