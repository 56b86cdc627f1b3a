using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SharpGpt.Eval;
using SharpGpt.Formats;
using SharpGpt.Kernels;
using SharpGpt.Training;
using Spectre.Console;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt verify</c>: the model against a PyTorch / llm.c debug state.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "Model: llm.c GPT-2 checkpoint (.bin), .sgpt, or a Hugging Face safetensors file or folder", Required = true };
        var state = new Option<FileInfo>("--state") { Description = "llm.c debug state (.bin) for that model", Required = true };
        var steps = new Option<int>("--steps") { Description = "Then run N AdamW steps on the same batch (llm.c's test settings) and print each loss" };
        var expected = new Option<FileInfo?>("--expected-losses") { Description = "JSON with a \"losses\" array to compare the step losses with (tolerance 1e-2)" };
        var threads = CommonOptions.Threads();
        var command = new Command("verify", "Check forward and backward against a reference debug state (llm.c tolerances).") { model, state, steps, expected, threads };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(state)!, r.GetValue(steps), r.GetValue(expected), r.GetValue(threads)));
        return command;
    }

    private static int Run(FileInfo modelFile, FileInfo stateFile, int steps, FileInfo? expectedFile, int threads)
    {
        using var runner = new ParallelRunner(CommonOptions.ResolveThreads(threads));
        using var model = ModelFile.Load(modelFile.FullName, new CpuKernels(runner)).Model;
        var state = LlmcDebugState.Read(stateFile.FullName, model.Config);
        var c = model.Config;
        Console.WriteLine($"model: {c.NumLayers} layers, {c.NumHeads} heads, {c.Channels} channels, vocab {c.VocabSize} (padded {c.PaddedVocabSize}), block {c.MaxSeqLen}; batch B={state.B} T={state.T}");

        var report = ReferenceVerifier.Verify(model, state);
        var table = new Table().AddColumns("tensor", "max |diff|", "at", "ours", "expected", "tolerance", "");
        void Row(TensorDifference d) => table.AddRow(d.Name, d.MaxAbsDifference.ToString("E2", CultureInfo.InvariantCulture), d.Index.ToString(CultureInfo.InvariantCulture),
            d.Ours.ToString("G6", CultureInfo.InvariantCulture), d.Expected.ToString("G6", CultureInfo.InvariantCulture), d.Tolerance.ToString("G", CultureInfo.InvariantCulture), d.Ok ? "[green]OK[/]" : "[red]MISMATCH[/]");
        Row(report.Logits);
        foreach (var g in report.Gradients)
        {
            Row(g);
        }

        AnsiConsole.Write(table);
        Console.WriteLine(FormattableString.Invariant($"loss {report.Loss:F6} expected {report.ExpectedLoss:F6} {(report.LossOk ? "OK" : "MISMATCH")}"));
        bool ok = report.Ok;

        if (steps > 0)
        {
            float[]? expectedLosses = expectedFile is null ? null : ReadLosses(expectedFile.FullName);
            using var optimizer = new AdamWOptimizer(model, AdamWSettings.LlmcTest);
            for (int step = 0; step < steps; step++)
            {
                model.ZeroGradients();
                float loss = model.Forward(state.Inputs, state.Targets, state.B, state.T);
                string verdict = "";
                if (expectedLosses is not null && step < expectedLosses.Length)
                {
                    bool stepOk = Math.Abs(loss - expectedLosses[step]) <= VerificationReport.LossTolerance;
                    ok &= stepOk;
                    verdict = FormattableString.Invariant($" expected {expectedLosses[step]:F6} {(stepOk ? "OK" : "MISMATCH")}");
                }

                Console.WriteLine(FormattableString.Invariant($"step {step} loss {loss:F6}{verdict}"));
                model.Backward(1f / model.TargetCount);
                optimizer.Update(1e-4f);
            }
        }

        Console.WriteLine(ok ? "verify: OK" : "verify: MISMATCH");
        return ok ? 0 : 1;
    }

    private static float[] ReadLosses(string path)
    {
        if (!File.Exists(path))
        {
            throw new SharpGptException(path, "expected-losses file not found.");
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("losses", out var losses) || losses.ValueKind != JsonValueKind.Array)
            {
                throw new SharpGptException(path, "no \"losses\" array.");
            }

            return [.. losses.EnumerateArray().Select(e => e.GetSingle())];
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new SharpGptException(path, $"not a JSON object with a \"losses\" array of numbers: {e.Message}", innerException: e);
        }
    }
}
