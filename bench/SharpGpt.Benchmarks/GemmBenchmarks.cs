using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using SharpGpt.Kernels;

namespace SharpGpt.Benchmarks;

/// <summary>
/// The matrix multiplies of one GPT-2 124M training step (B*T = 256, C = 768, padded vocab 50304),
/// on all cores, with a GFLOP/s column. Run with
/// <c>dotnet run -c Release --project bench/SharpGpt.Benchmarks -- --filter '*Gemm*'</c>.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 5)]
[Config(typeof(GemmBenchmarkConfig))]
public unsafe class GemmBenchmarks
{
    private ParallelRunner _runner = null!;
    private NativeBuffer _a = null!;
    private NativeBuffer _b = null!;
    private NativeBuffer _c = null!;
    private NativeBuffer _bias = null!;

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = null!;

    public static IEnumerable<GemmShape> Shapes =>
    [
        // Forward: out[BT, OC] = inp[BT, C] · W[OC, C]^T + bias.
        new("fwd qkv", false, true, 256, 2304, 768, Bias: true),
        new("fwd attproj", false, true, 256, 768, 768, Bias: true),
        new("fwd fc", false, true, 256, 3072, 768, Bias: true),
        new("fwd fcproj", false, true, 256, 768, 3072, Bias: true),
        new("fwd lm_head", false, true, 256, 50304, 768, Bias: false),

        // Backward: dinp[BT, C] += dout[BT, OC] · W[OC, C].
        new("dinp fc", false, false, 256, 768, 3072, Bias: false),
        new("dinp lm_head", false, false, 256, 768, 50304, Bias: false),

        // Backward: dW[OC, C] += dout^T · inp.
        new("dW qkv", true, false, 2304, 768, 256, Bias: false),
        new("dW lm_head", true, false, 50304, 768, 256, Bias: false),
    ];

    [GlobalSetup]
    public void Setup()
    {
        _runner = new ParallelRunner(Environment.ProcessorCount);
        GemmShape s = Shape;
        _a = Filled((long)s.M * s.K, 1);
        _b = Filled((long)s.K * s.N, 2);
        _c = Filled((long)s.M * s.N, 3);
        _bias = Filled(s.N, 4);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runner.Dispose();
        _a.Dispose();
        _b.Dispose();
        _c.Dispose();
        _bias.Dispose();
    }

    [Benchmark]
    public void Sgemm()
    {
        GemmShape s = Shape;
        Gemm.Sgemm(_runner, s.TransA, s.TransB, s.M, s.N, s.K,
            _a.Pointer, s.TransA ? s.M : s.K, _b.Pointer, s.TransB ? s.K : s.N, _c.Pointer, s.N,
            accumulate: !s.Bias, s.Bias ? _bias.Pointer : null);
    }

    private static NativeBuffer Filled(long length, int seed)
    {
        var buffer = new NativeBuffer(length);
        var rng = new Random(seed);
        for (long i = 0; i < length; i++)
        {
            buffer.Pointer[i] = (float)(rng.NextDouble() - 0.5) * 0.1f;
        }

        return buffer;
    }
}

/// <summary>One product: C[M,N] (+)= op(A)[M,K] · op(B)[K,N].</summary>
public sealed record GemmShape(string Name, bool TransA, bool TransB, int M, int N, int K, bool Bias)
{
    public double Flops => 2.0 * M * N * K;

    public override string ToString() => $"{Name} {(TransA ? 'T' : 'N')}{(TransB ? 'T' : 'N')} {M}x{N}x{K}";
}

/// <summary>Adds the GFLOP/s column and room for the shape names.</summary>
public sealed class GemmBenchmarkConfig : ManualConfig
{
    public GemmBenchmarkConfig()
    {
        AddColumn(new GflopsColumn());
        WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40));
    }
}

/// <summary>2·M·N·K divided by the mean time of one operation.</summary>
public sealed class GflopsColumn : IColumn
{
    public string Id => nameof(GflopsColumn);

    public string ColumnName => "GFLOP/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Useful floating-point operations (2*M*N*K) per second, in billions, at the mean time";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        return meanNs is double ns && ns > 0 && benchmarkCase.Parameters["Shape"] is GemmShape shape
            ? (shape.Flops / ns).ToString("F1", System.Globalization.CultureInfo.InvariantCulture)
            : "-";
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
