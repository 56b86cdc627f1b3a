using System.Diagnostics;
using System.Net;
using System.Text;
using SharpGpt.Tests.Data;
using SharpGpt.Tests.Inference;

namespace SharpGpt.Tests.Cli;

/// <summary><c>sharpgpt serve</c> as a user runs it: a process of its own that prints where it listens, warns when it
/// is open beyond this machine without a key, takes its key from --api-key or SHARPGPT_API_KEY, and stops cleanly
/// on SIGTERM or Ctrl-C; bad flags are one line naming the flag.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ServeCommandTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _dir = new();

    public ServeCommandTests()
    {
        using var model = BatchTestModels.Characters(blockSize: 64);
        model.Save(Checkpoint);
    }

    private string Checkpoint => _dir.File("tiny-chat.sgpt");

    public void Dispose() => _dir.Dispose();

    /// <summary>Beyond loopback without a key the server warns, before it listens. The host is an address of TEST-NET-1
    /// (RFC 5737), which no machine has, so the listening then fails, as one line naming --host: no test ever
    /// listens beyond loopback.</summary>
    [Fact]
    public async Task ServingBeyondLoopbackWithoutAKeyWarnsBeforeListening()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var serve = Serve(["--host", "192.0.2.1", "--port", "0"], apiKey: null);
        var (code, output) = await serve.ExitAsync();
        Assert.True(code == 1, $"exit {code}\n{output}");
        Assert.Contains("Listening on 192.0.2.1, beyond this machine, without an API key", output);
        Assert.Contains("sharpgpt serve: --host: 192.0.2.1 is not an address of this machine; listen on 127.0.0.1", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task SigtermStopsIt()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var serve = Serve(["--host", "127.0.0.1", "--port", "0"], apiKey: null);
        int port = await serve.PortAsync();
        using var http = new HttpClient { Timeout = Patience };
        using var health = await http.GetAsync($"http://127.0.0.1:{port}/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("\"model\":\"tiny-chat\"", await health.Content.ReadAsStringAsync());

        var (code, output) = await serve.SignalAsync("TERM");
        Assert.True(code == 0, $"exit {code}\n{output}");
        Assert.Contains("serve: stopped.", output);
        Assert.Contains("OpenAI base URL: http://127.0.0.1:", output);
        Assert.DoesNotContain("without an API key", output);
    }

    [Fact]
    public async Task TheKeyComesFromTheEnvironmentAndCtrlCStopsIt()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var serve = Serve(["--host", "127.0.0.1", "--port", "0", "--model-id", "mine"], apiKey: "from-env");
        int port = await serve.PortAsync();
        using var http = new HttpClient { Timeout = Patience };
        using var denied = await http.GetAsync($"http://127.0.0.1:{port}/v1/models");
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        http.DefaultRequestHeaders.Authorization = new("Bearer", "from-env");
        using var models = await http.GetAsync($"http://127.0.0.1:{port}/v1/models");
        Assert.Contains("\"id\":\"mine\"", await models.Content.ReadAsStringAsync());

        var (code, output) = await serve.SignalAsync("INT");
        Assert.True(code == 0, $"exit {code}\n{output}");
        Assert.DoesNotContain("without an API key", output);
        Assert.Contains("API key required", output);
    }

    [Theory]
    [InlineData("--max-batch", "0", "sharpgpt serve: --max-batch: must be at least 1, got 0.")]
    [InlineData("--max-queue", "-1", "sharpgpt serve: --max-queue: must be 0 (no queue) or more, got -1.")]
    [InlineData("--port", "70000", "sharpgpt serve: --port: must be from 0 (any free port) to 65535")]
    [InlineData("--host", "example.com", "sharpgpt serve: --host: must be an IP address, localhost or *, got 'example.com'")]
    [InlineData("--max-body-bytes", "10", "sharpgpt serve: --max-body-bytes: must be at least 1024, got 10.")]
    public void ABadFlagIsOneLineNamingIt(string flag, string value, string message)
    {
        var (code, _, err) = CliRunner.Run("serve", "--checkpoint", Checkpoint, flag, value);
        Assert.Equal(1, code);
        Assert.StartsWith(message, err.Trim());
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void APortInUseIsOneLineNamingIt()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var (code, _, err) = CliRunner.Run("serve", "--checkpoint", Checkpoint, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, code);
        Assert.StartsWith($"sharpgpt serve: --port: 127.0.0.1 port {port} is in use; stop what listens there, or choose another --port", err.Trim());
    }

    private ServeProcess Serve(string[] flags, string? apiKey)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sharpgpt.dll"));
        foreach (string arg in (string[])["serve", "--checkpoint", Checkpoint, "--threads", "1", .. flags])
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("SHARPGPT_API_KEY");
        if (apiKey is not null)
        {
            info.Environment["SHARPGPT_API_KEY"] = apiKey;
        }

        return new ServeProcess(Process.Start(info)!);
    }

    /// <summary>A running <c>sharpgpt serve</c>, its output gathered as it comes; killed if a test leaves it running.</summary>
    private sealed class ServeProcess : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        public ServeProcess(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        /// <summary>The port of the "Chat page: http://HOST:PORT/" line.</summary>
        public async Task<int> PortAsync()
        {
            string line = await WaitForOutputAsync("Chat page:");
            var match = System.Text.RegularExpressions.Regex.Match(line, @"Chat page:\s+http://[^/]+:(\d+)/");
            Assert.True(match.Success, line);
            return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        /// <summary>Waits for output holding <paramref name="text"/>; returns all the output so far.</summary>
        public async Task<string> WaitForOutputAsync(string text)
        {
            var deadline = DateTime.UtcNow + Patience;
            while (!Output.Contains(text, StringComparison.Ordinal))
            {
                Assert.False(_process.HasExited, $"sharpgpt serve exited with {(_process.HasExited ? _process.ExitCode : 0)}:\n{Output}");
                Assert.True(DateTime.UtcNow < deadline, $"no '{text}' in:\n{Output}");
                await Task.Delay(20);
            }

            return Output.Split('\n').First(l => l.Contains(text, StringComparison.Ordinal));
        }

        /// <summary>Waits for the process to end by itself.</summary>
        public async Task<(int Code, string Output)> ExitAsync()
        {
            using var timeout = new CancellationTokenSource(Patience);
            await _process.WaitForExitAsync(timeout.Token);
            return (_process.ExitCode, Output);
        }

        public async Task<(int Code, string Output)> SignalAsync(string signal)
        {
            using (var kill = Process.Start("kill", [$"-{signal}", $"{_process.Id}"]))
            {
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(Patience);
            await _process.WaitForExitAsync(timeout.Token);
            return (_process.ExitCode, Output);
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }

        private void Append(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.AppendLine(line);
                }
            }
        }
    }
}
