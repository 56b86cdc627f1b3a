using Microsoft.Extensions.AI;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using SharpGpt.Server;
using SharpGpt.Tests.Data;
using SharpGpt.Tests.Inference;

namespace SharpGpt.Tests.Server;

/// <summary>The chat page in a real browser: Debian's Chromium, headless, driven by Selenium through the system's
/// ChromeDriver (no browser download). A person types, watches the answer stream in, stops it halfway, tunes the
/// temperature and the token limit, and starts a new chat.</summary>
public sealed class ChatPageBrowserTests : IAsyncLifetime
{
    private const int MaxTokens = 200;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _profile = new();
    private GptModel _model = null!;
    private RunningServer _server = null!;
    private ChromeDriver? _browser;

    public async Task InitializeAsync()
    {
        _model = BatchTestModels.Characters(blockSize: 512);
        _server = await RunningServer.StartAsync(_model, new GptServerOptions { ModelId = "char-gpt" });
    }

    public async Task DisposeAsync()
    {
        _browser?.Quit();
        _browser?.Dispose();
        await _server.DisposeAsync();
        _model.Dispose();
        _profile.Dispose();
    }

    [ChromiumFact]
    public async Task ATypedMessageStreamsInAndStopsHalfwayThenTheControlsAndNewChatWork()
    {
        // Slow enough to watch: a full answer would take MaxTokens x 30 ms.
        _server.Generator.StepDelay = TimeSpan.FromMilliseconds(30);
        var browser = _browser = StartBrowser();
        var wait = new WebDriverWait(browser, Patience) { PollingInterval = TimeSpan.FromMilliseconds(20) };
        browser.Navigate().GoToUrl(_server.Server.BaseAddress);
        wait.Until(b => b.FindElement(By.Id("model")).Text.Contains("char-gpt", StringComparison.Ordinal));

        SetNumber(browser, "temperature", "1");
        SetNumber(browser, "max-tokens", MaxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture));
        browser.FindElement(By.Id("prompt")).SendKeys("hello there" + Keys.Enter);

        // The answer streams in: text appears while it is still being written, and grows.
        var answer = wait.Until(b => b.FindElements(By.CssSelector(".message.assistant")).FirstOrDefault());
        string first = wait.Until(_ => Content(answer) is { Length: > 0 } text && State(answer) == "streaming" ? text : null)!;
        wait.Until(_ => Content(answer).Length > first.Length && State(answer) == "streaming");
        Assert.True(browser.FindElement(By.Id("send")).GetDomProperty("disabled") == "True", "send should wait while an answer streams");

        browser.FindElement(By.Id("stop")).Click();
        wait.Until(_ => State(answer) == "stopped");
        string stopped = Content(answer);
        Assert.InRange(stopped.Length, first.Length + 1, MaxTokens - 1);
        await _server.WaitUntilIdleAsync(TimeSpan.FromSeconds(5)); // the server freed the place at once
        await Task.Delay(300);
        Assert.Equal(stopped, Content(answer)); // and nothing more arrives
        Assert.Equal("Stopped.", browser.FindElement(By.Id("status")).Text);

        // Temperature 0 and 12 tokens: the next answer is the model's greedy reply to the whole conversation so far.
        _server.Generator.StepDelay = TimeSpan.Zero;
        SetNumber(browser, "temperature", "0");
        SetNumber(browser, "max-tokens", "12");
        browser.FindElement(By.Id("prompt")).SendKeys("and then" + Keys.Enter);
        var second = wait.Until(b => b.FindElements(By.CssSelector(".message.assistant")).Skip(1).FirstOrDefault());
        wait.Until(_ => State(second) == "done");
        var expected = await GreedyAsync([new(ChatRole.User, "hello there"), new(ChatRole.Assistant, stopped), new(ChatRole.User, "and then")], 12);
        Assert.Equal(expected.Text, Content(second).TrimEnd());
        Assert.Contains($"completion tokens", browser.FindElement(By.Id("status")).Text);

        // A new chat forgets the conversation: the same message now gets the reply to it alone.
        browser.FindElement(By.Id("new-chat")).Click();
        Assert.Empty(browser.FindElements(By.CssSelector(".message")));
        browser.FindElement(By.Id("prompt")).SendKeys("and then" + Keys.Enter);
        var fresh = wait.Until(b => b.FindElements(By.CssSelector(".message.assistant")).FirstOrDefault());
        wait.Until(_ => State(fresh) == "done");
        var alone = await GreedyAsync([new(ChatRole.User, "and then")], 12);
        Assert.Equal(alone.Text, Content(fresh).TrimEnd());
    }

    private ChromeDriver StartBrowser()
    {
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromiumFactAttribute.Driver)!, Path.GetFileName(ChromiumFactAttribute.Driver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumFactAttribute.Browser };
        // The flags that work on a machine with a closed network: no background connections, no first-run work.
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", $"--user-data-dir={_profile.Path}", "--window-size=1200,900");
        return new ChromeDriver(service, options, Patience);
    }

    private async Task<ChatResponse> GreedyAsync(ChatMessage[] conversation, int maxTokens)
    {
        await _server.WaitUntilIdleAsync();
        return await _model.AsChatClient().GetResponseAsync(conversation, new ChatOptions { Temperature = 0, MaxOutputTokens = maxTokens });
    }

    private static string Content(IWebElement message) => message.FindElement(By.CssSelector(".content")).GetDomProperty("textContent") ?? "";

    private static string? State(IWebElement message) => message.GetDomAttribute("data-state");

    private static void SetNumber(IWebDriver browser, string id, string value)
    {
        var input = browser.FindElement(By.Id(id));
        input.Clear();
        input.SendKeys(value);
    }
}
