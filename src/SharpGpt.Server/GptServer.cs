using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SharpGpt.Server;

/// <summary>
/// A <see cref="GptModel"/> served over HTTP with OpenAI's API, on ASP.NET Core's Kestrel: <c>POST /v1/chat/completions</c>
/// and <c>POST /v1/completions</c> (with <c>"stream": true</c> as server-sent events), <c>GET /v1/models</c>,
/// <c>GET /health</c>, and a chat page at <c>/</c>. OpenAI's client libraries, agent frameworks and chat front-ends
/// use it with the base URL <c>http://HOST:PORT/v1</c>.
/// <para>Concurrent requests are decoded together by one <see cref="GptBatchGenerator"/> (continuous batching, up to
/// <see cref="GptServerOptions.MaxBatchSize"/>; then up to <see cref="GptServerOptions.MaxQueueLength"/> wait; then
/// 429). A client that disconnects leaves the batch before the next token step. Errors are OpenAI's JSON error
/// object with status 400, 401, 404, 413, 429, 500 or 503 (shutting down), the message naming the field or limit.</para>
/// <para><see cref="StartAsync"/> starts a server and gives its address; <see cref="Build"/> gives the
/// <see cref="WebApplication"/> unstarted, for an application that hosts it itself. Neither owns the model: dispose
/// the server before the model.</para>
/// </summary>
public sealed class GptServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GptServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:8080/</c>, with the port it took when
    /// <see cref="GptServerOptions.Port"/> was 0. OpenAI clients take <c>new Uri(BaseAddress, "v1")</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Tests: the generator all requests go through.</summary>
    internal GptBatchGenerator Generator => _app.Services.GetRequiredService<ServerState>().Generator;

    /// <summary>Builds the server's web application, not yet started: Kestrel listening on
    /// <see cref="GptServerOptions.Host"/> and <see cref="GptServerOptions.Port"/>, every request going to the
    /// endpoints above. Run it (<c>RunAsync</c>) and dispose it as any ASP.NET Core application; disposing it ends
    /// the generations under way.</summary>
    /// <param name="model">The model to serve; it needs a tokenizer. It stays open when the application ends.</param>
    /// <param name="options">Address, API key, limits and logging; the defaults when null.</param>
    /// <returns>The application.</returns>
    /// <exception cref="ArgumentException">The model has no tokenizer, or an option is out of range (named).</exception>
    public static WebApplication Build(GptModel model, GptServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new GptServerOptions();
        options.Validate();
        if (model.Tokenizer is null)
        {
            throw new ArgumentException("The model records no tokenizer, so requests cannot be read as text; open it with GptModelOptions.Tokenizer.", nameof(model));
        }

        var (address, loopback) = ListenAddress(options.Host);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(GptServer).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Listen(address, options.Port);
        });
        var loggers = options.LoggerFactory ?? NullLoggerFactory.Instance;
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(services => new ServerState(model, options,
            services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping, loggers.CreateLogger("SharpGpt.Server")));

        var app = builder.Build();
        var state = app.Services.GetRequiredService<ServerState>();
        app.Run(http => RequestDispatcher.HandleAsync(http, state));
        if (!loopback && options.ApiKey is null)
        {
            state.Logger.LogWarning("Listening on {Host}, beyond this machine, without an API key: anyone who can reach it can use the model. Set an API key, or listen on 127.0.0.1.",
                options.Host);
        }

        return app;
    }

    /// <summary>Builds and starts a server (see <see cref="Build"/>).</summary>
    /// <param name="model">The model to serve; it needs a tokenizer. It stays open when the server ends.</param>
    /// <param name="options">Address, API key, limits and logging; the defaults when null.</param>
    /// <param name="cancellationToken">Abandons the start.</param>
    /// <returns>The started server.</returns>
    /// <exception cref="ArgumentException">The model has no tokenizer, or an option is out of range (named).</exception>
    /// <exception cref="IOException">The address is in use or cannot be bound.</exception>
    /// <exception cref="SharpGptException">The host is not an address of this machine (<see cref="GptServerOptions.Host"/>).</exception>
    public static async Task<GptServer> StartAsync(GptModel model, GptServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        var app = Build(model, options);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new GptServer(app, new Uri(address.EndsWith('/') ? address : address + "/"));
        }
        catch (Exception e) when (e is SocketException { SocketErrorCode: SocketError.AddressNotAvailable }
            || e.InnerException is SocketException { SocketErrorCode: SocketError.AddressNotAvailable })
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new SharpGptException(nameof(GptServerOptions.Host), $"{(options ?? new GptServerOptions()).Host} is not an address of this machine",
                "listen on 127.0.0.1, on * (every address) or on one of its own.", e);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits until the server stops: <see cref="StopAsync"/>, the token, or Ctrl-C or SIGTERM to the process.</summary>
    /// <param name="cancellationToken">Stops the server when cancelled.</param>
    /// <returns>A task that completes when the server has stopped.</returns>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops taking requests and ends the generations under way (a stream gets an error event, a request that
    /// has not started its response gets 503).</summary>
    /// <param name="cancellationToken">Makes the stop less graceful.</param>
    /// <returns>A task that completes when the server has stopped.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <summary>Stops the server if it runs, and frees it (its KV caches included). The model stays open.</summary>
    /// <returns>A task that completes when the server is freed.</returns>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // Already stopped and freed.
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static (IPAddress Address, bool Loopback) ListenAddress(string host)
    {
        if (host is "*" or "+")
        {
            return (IPAddress.IPv6Any, false);
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return (IPAddress.Loopback, true);
        }

        return IPAddress.TryParse(host.Trim('[', ']'), out var address) ? (address, IPAddress.IsLoopback(address))
            : throw new ArgumentException($"Host must be an IP address, localhost or *, got '{host}'.", nameof(GptServerOptions.Host));
    }
}
