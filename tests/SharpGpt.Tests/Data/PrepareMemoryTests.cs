using System.Globalization;
using System.Text.RegularExpressions;
using SharpGpt.Data;
using SharpGpt.Tests.Distributed;

namespace SharpGpt.Tests.Data;

public partial class PrepareMemoryTests
{
    private const long HeapLimit = 64L << 20;
    private const long TextBytes = 80L << 20;
    private const long TxtTextBytes = 4 * HeapLimit;

    /// <summary>The bound holds whatever the input size: prepare runs in a child process whose managed heap may not
    /// grow past 64 MiB (the runtime's hard limit, so going over is an OutOfMemoryException, not a flaky
    /// measurement), on a Parquet file of many row groups whose text alone takes 80 MiB as .NET strings; with the
    /// tokenizer's tables and the runtime's own, holding the text whole would not fit.</summary>
    [Fact]
    public void Prepare_streams_a_parquet_file_whose_text_is_larger_than_its_heap_limit()
    {
        using var temp = new TempDirectory();
        var path = temp.File("large.parquet");
        long chars = 0;
        var distinct = Enumerable.Range(0, 16).Select(seed => FineWebSample.Documents(200, seed)).ToList();
        IEnumerable<IReadOnlyList<string?>> RowGroups()
        {
            for (var group = 0; chars * sizeof(char) < TextBytes; group++)
            {
                var texts = distinct[group % distinct.Count];
                chars += texts.Sum(t => (long)t.Length);
                yield return texts;
            }
        }

        FineWebSample.WriteParquet(path, RowGroups());
        var outDir = temp.File("out");

        var run = MpiJob.RunSingle(
            new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = $"0x{HeapLimit:X}" },
            "prepare", "--input", path, "--out", outDir, "--threads", "2").Succeeded();

        Assert.True(chars * sizeof(char) >= TextBytes);
        Assert.True(PreparedDataMeta.Read(outDir).TrainTokens > chars / 8);
        var peak = PeakMemory().Match(run.Output);
        Assert.True(peak.Success, run.Output);
        Assert.True(double.Parse(peak.Groups[1].Value, CultureInfo.InvariantCulture) < 256, run.Output);
    }

    /// <summary>The same bound for a .txt file, which is one document read in pieces: its text takes four times the
    /// heap limit as a .NET string, so reading it whole (or holding its tokens) could not fit. The default split of
    /// a single .txt counts its characters first, so both reading passes run under the limit.</summary>
    [Fact]
    public void Prepare_streams_a_txt_file_whose_text_is_many_times_its_heap_limit()
    {
        using var temp = new TempDirectory();
        var path = temp.File("large.txt");
        var shakespeare = EmbeddedData.TinyShakespeare();
        var copies = (int)(TxtTextBytes / sizeof(char) / shakespeare.Length) + 1;
        using (var writer = new StreamWriter(path))
        {
            for (var i = 0; i < copies; i++)
            {
                writer.Write(shakespeare);
            }
        }

        var outDir = temp.File("out");

        var run = MpiJob.RunSingle(
            new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = $"0x{HeapLimit:X}" },
            "prepare", "--input", path, "--out", outDir, "--threads", "2").Succeeded();

        var chars = (long)copies * shakespeare.Length;
        Assert.True(chars * sizeof(char) >= TxtTextBytes);
        var meta = PreparedDataMeta.Read(outDir);
        Assert.True(meta.TrainTokens > chars / 5, run.Output);
        Assert.True(meta.ValTokens > chars / 50, run.Output);
        var peak = PeakMemory().Match(run.Output);
        Assert.True(peak.Success, run.Output);
        Assert.True(double.Parse(peak.Groups[1].Value, CultureInfo.InvariantCulture) < 256, run.Output);
    }

    [GeneratedRegex(@"peak memory ([\d.]+) MiB")]
    private static partial Regex PeakMemory();
}
