using SharpGpt.Gpu.Cuda;

namespace SharpGpt.Tests.Gpu;

/// <summary>The cuBLASLt structs bound by hand have cublasLt.h's sizes, so the heuristic writes its result where we read it.</summary>
public sealed unsafe class CublasLtLayoutTests
{
    [Fact]
    public void StructsHaveTheHeadersSizes()
    {
        Assert.Equal(64, sizeof(CublasLt.Algorithm));            // uint64_t data[8]
        Assert.Equal(96, sizeof(CublasLt.HeuristicResult));      // algo, size_t, status, float, int[4]
        var result = default(CublasLt.HeuristicResult);
        Assert.Equal(72, (int)((byte*)&result.State - (byte*)&result));
    }
}
