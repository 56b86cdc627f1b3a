using System.Globalization;
using SharpGpt.Data;
using SharpGpt.Tests.Cli;
using SharpGpt.Tests.Data;
using SharpGpt.Training;

namespace SharpGpt.Tests.Gpu;

/// <summary>
/// Whole training runs through the CLI on --device cuda-emulated against --device cpu: a small odd
/// model (3 layers, 3 heads, 48 dims, T = 23, micro-batch 4, two accumulation steps), and
/// checkpoints that move between the devices.
/// </summary>
[Collection(EmulatedGpuCollection.Name)]
public sealed class GpuTrainingTests(GpuTrainingTests.Runs runs) : IClassFixture<GpuTrainingTests.Runs>
{
    private const int Steps = 5;

    [Theory]
    [InlineData("fp32", 1e-4)]
    [InlineData("bf16", 5e-3)]
    public void EmulatedGpuRunMatchesTheCpuRun(string dtype, double tolerance)
    {
        float[] cpu = Losses(runs.Get("cpu", dtype)), gpu = Losses(runs.Get("cuda-emulated", dtype));
        Assert.Equal(Steps, gpu.Length);
        for (int s = 0; s < Steps; s++)
        {
            Assert.True(Math.Abs(gpu[s] - cpu[s]) <= tolerance * Math.Abs(cpu[s]), $"{dtype} step {s + 1}: loss {gpu[s]} on the emulated GPU, {cpu[s]} on the CPU");
        }
    }

    [Fact]
    public void CheckpointsResumeOnTheOtherDevice()
    {
        // Each run's checkpoint of step 5 continues for two more steps: the GPU's on the CPU and the
        // CPU's on the GPU, against the CPU's own on the CPU.
        string reference = runs.Copy("cpu", "fp32"), gpuOnCpu = runs.Copy("cuda-emulated", "fp32"), cpuOnGpu = runs.Copy("cpu", "fp32");
        Assert.DoesNotContain("trained on", runs.Train("cpu", "fp32", reference, Steps + 2, resume: true));
        Assert.Contains("trained on cuda-emulated, this run continues on cpu", runs.Train("cpu", "fp32", gpuOnCpu, Steps + 2, resume: true));
        Assert.Contains("trained on cpu, this run continues on cuda-emulated", runs.Train("cuda-emulated", "fp32", cpuOnGpu, Steps + 2, resume: true));

        float[] expected = Losses(reference)[Steps..];
        foreach (var (run, what) in new[] { (gpuOnCpu, "the GPU's checkpoint on the CPU"), (cpuOnGpu, "the CPU's checkpoint on the GPU") })
        {
            float[] actual = Losses(run)[Steps..];
            Assert.Equal(2, actual.Length);
            for (int s = 0; s < 2; s++)
            {
                Assert.True(Math.Abs(actual[s] - expected[s]) <= 1e-4 * expected[s], $"{what}, step {Steps + s + 1}: {actual[s]} against {expected[s]}");
            }
        }
    }

    private static float[] Losses(string outDir) => [.. MetricsLog.Read(Path.Combine(outDir, "metrics.jsonl")).Select(r => r.Loss)];

    /// <summary>The data and the runs the tests share, each trained once: an emulated run takes seconds a step.</summary>
    public sealed class Runs : IDisposable
    {
        private readonly TempDirectory _dir = new();
        private readonly string _data;
        private readonly Dictionary<string, string> _runs = [];
        private int _copies;

        public Runs()
        {
            _data = _dir.File("data");
            string text = string.Concat(Enumerable.Range(0, 120).Select(i => $"{i}: the quick brown fox {(char)('a' + (i % 26))} jumps.\n"));
            DataPreparer.PrepareText(text, _data, new PrepareOptions { Tokenizer = TokenizerKind.Character });
        }

        /// <summary>The output folder of a 5-step run on this device and precision, trained on first use.</summary>
        public string Get(string device, string dtype)
        {
            string key = $"{device}-{dtype}";
            if (!_runs.TryGetValue(key, out string? dir))
            {
                dir = _dir.File(key);
                Train(device, dtype, dir, Steps, resume: false);
                _runs[key] = dir;
            }

            return dir;
        }

        /// <summary>A copy of a run's output folder, to resume without touching the original.</summary>
        public string Copy(string device, string dtype)
        {
            string from = Get(device, dtype), to = _dir.File($"copy{_copies++}");
            Directory.CreateDirectory(to);
            foreach (string file in Directory.GetFiles(from))
            {
                File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
            }

            return to;
        }

        /// <summary>Runs train and returns what it printed.</summary>
        public string Train(string device, string dtype, string outDir, int maxSteps, bool resume)
        {
            string[] args =
            [
                "train", "--data", _data, "--out", outDir, "--device", device, "--dtype", dtype,
                "--layers", "3", "--heads", "3", "--embd", "48", "--block-size", "23", "--seq-len", "23",
                "--micro-batch", "4", "--total-batch-tokens", (2 * 4 * 23).ToString(CultureInfo.InvariantCulture),
                "--max-steps", maxSteps.ToString(CultureInfo.InvariantCulture), "--warmup", "2", "--lr", "3e-3",
                "--val-every", "0", "--checkpoint-every", Steps.ToString(CultureInfo.InvariantCulture),
                "--sample-every", "0", "--sample-tokens", "0", "--threads", "2",
                .. resume ? new[] { "--resume" } : [],
            ];
            var (code, output, error) = CliRunner.Run(args);
            Assert.True(code == 0, $"train --device {device} exited {code}: {error}");
            return output + error;
        }

        public void Dispose() => _dir.Dispose();
    }
}
