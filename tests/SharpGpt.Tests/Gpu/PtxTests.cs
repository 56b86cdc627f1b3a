using System.Diagnostics;
using System.Text.RegularExpressions;
using SharpGpt.Gpu;
using Xunit.Abstractions;

namespace SharpGpt.Tests.Gpu;

/// <summary>Every GPU kernel compiles to PTX without a GPU, and (with ptxas) assembles for Hopper without spilling.</summary>
public sealed partial class PtxTests(ITestOutputHelper output)
{
    private static readonly Lazy<List<(string Name, string Ptx)>> Compiled = new(() => [.. PtxCompiler.Compile()]);

    [Fact]
    public void EveryKernelCompilesToPtx()
    {
        var names = PtxCompiler.Kernels().Select(k => k.Name).ToList();
        Assert.Contains("GpuLayerNorm.ForwardKernel", names);
        Assert.Contains("GpuRows.GatherKernel<UInt16>", names);
        Assert.Equal(names, Compiled.Value.Select(k => k.Name));
        Assert.All(Compiled.Value, k => Assert.Contains(".entry", k.Ptx));
    }

    [PtxasFact]
    public void EveryKernelAssemblesForHopperWithoutSpills()
    {
        string dir = Directory.CreateTempSubdirectory("sharpgpt-ptx-").FullName;
        try
        {
            foreach (var (name, ptx) in Compiled.Value)
            {
                string file = Path.Combine(dir, "kernel.ptx");
                File.WriteAllText(file, ptx);
                var (code, report) = Run(PtxasFactAttribute.Ptxas!, "-arch=sm_90", "-v", "-o", Path.Combine(dir, "kernel.cubin"), file);
                Assert.True(code == 0, $"ptxas failed on {name}: {report}");
                var used = Registers().Match(report);
                var spills = Spills().Match(report);
                Assert.True(used.Success && spills.Success, $"ptxas -v printed no register line for {name}: {report}");
                Assert.Equal("0", spills.Groups[1].Value);
                output.WriteLine($"{name}: {used.Groups[1].Value} registers, {spills.Groups[1].Value} bytes spilled");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static (int Code, string Output) Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        string stderr = process.StandardError.ReadToEnd(), stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr);
    }

    [GeneratedRegex(@"Used (\d+) registers")]
    private static partial Regex Registers();

    [GeneratedRegex(@"(\d+) bytes spill stores")]
    private static partial Regex Spills();
}
