using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using SharpGpt.Kernels;

namespace SharpGpt.Benchmarks;

/// <summary>
/// One layer's attention forward and backward with GPT-2 small heads (C = 768, 12 heads of 64), B = 1,
/// plain attention (keeps the (B, NH, T, T) softmax) against flash attention (keeps (B, NH, T)), on all
/// cores. The managed allocations come from [MemoryDiagnoser]; the native state and scratch each kernel
/// needs are the extra columns. Run with
/// <c>dotnet run -c Release --project bench/SharpGpt.Benchmarks -- --filter '*Attention*'</c>.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3)]
[MemoryDiagnoser]
[Config(typeof(AttentionBenchmarkConfig))]
public unsafe class AttentionBenchmarks
{
    public const int B = 1, C = 768, NH = 12;

    private ParallelRunner _runner = null!;
    private CpuKernels _kernels = null!;
    private NativeBuffer _qkv = null!, _out = null!, _state = null!, _scratch = null!, _dout = null!, _dqkv = null!;

    [Params(1024, 2048)]
    public int T { get; set; }

    // The engine's types are internal; BenchmarkDotNet's parameters must be public, so the algorithm goes by name.
    [Params(nameof(AttentionAlgorithm.Plain), nameof(AttentionAlgorithm.Flash))]
    public string Algorithm { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _runner = new ParallelRunner(Environment.ProcessorCount);
        _kernels = new CpuKernels(_runner, Enum.Parse<AttentionAlgorithm>(Algorithm));
        _qkv = Filled((long)B * T * 3 * C, 1);
        _dout = Filled((long)B * T * C, 2);
        _out = new NativeBuffer((long)B * T * C);
        _dqkv = new NativeBuffer((long)B * T * 3 * C);
        _state = new NativeBuffer(_kernels.AttentionStateSize(B, T, NH));
        _scratch = new NativeBuffer(_kernels.AttentionScratchSize(B, T, C, NH));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _runner.Dispose();
        foreach (var b in new[] { _qkv, _out, _state, _scratch, _dout, _dqkv })
        {
            b.Dispose();
        }
    }

    [Benchmark]
    public void Forward() => _kernels.AttentionForward(_out.Pointer, _state.Pointer, _qkv.Pointer, B, T, C, NH);

    [Benchmark]
    public void ForwardBackward()
    {
        _kernels.AttentionForward(_out.Pointer, _state.Pointer, _qkv.Pointer, B, T, C, NH);
        _kernels.AttentionBackward(_dqkv.Pointer, _scratch.Pointer, _dout.Pointer, _qkv.Pointer, _out.Pointer, _state.Pointer, B, T, C, NH);
    }

    private static NativeBuffer Filled(long length, int seed)
    {
        var buffer = new NativeBuffer(length);
        var rng = new Random(seed);
        for (long i = 0; i < length; i++)
        {
            buffer.Pointer[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return buffer;
    }
}

/// <summary>Adds the native-memory columns.</summary>
public sealed class AttentionBenchmarkConfig : ManualConfig
{
    public AttentionBenchmarkConfig()
    {
        AddColumn(new AttentionMemoryColumn("State/layer", "Native floats the forward saves for the backward, per layer (plain: B*NH*T*T, flash: B*NH*T)", state: true));
        AddColumn(new AttentionMemoryColumn("Scratch", "Native backward scratch, shared by all layers", state: false));
    }
}

/// <summary>The native memory a kernel asks the model for, from its own size methods, in MiB.</summary>
public sealed class AttentionMemoryColumn(string name, string legend, bool state) : IColumn
{
    public string Id => $"{nameof(AttentionMemoryColumn)}.{name}";

    public string ColumnName => name;

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => state ? 0 : 1;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => legend + ", MiB";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (benchmarkCase.Parameters["T"] is not int t || !Enum.TryParse(benchmarkCase.Parameters["Algorithm"] as string, out AttentionAlgorithm algorithm))
        {
            return "-";
        }

        const int b = AttentionBenchmarks.B, c = AttentionBenchmarks.C, nh = AttentionBenchmarks.NH;
        long floats = (state, algorithm) switch
        {
            (true, AttentionAlgorithm.Plain) => Attention.AttentionScratchSize(b, t, nh),
            (false, AttentionAlgorithm.Plain) => Attention.BackwardScratchSize(b, t, nh),
            (true, _) => FlashAttention.StateSize(b, t, nh),
            _ => FlashAttention.ScratchSize(b, t, c, nh),
        };
        return (floats * sizeof(float) / (1024.0 * 1024.0)).ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
