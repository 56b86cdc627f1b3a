namespace SharpGpt.Tests.Server;

/// <summary>A test that drives Debian's Chromium headless through its ChromeDriver (apt packages chromium and
/// chromium-driver, which .ci/run installs): skipped, with the reason, only where either is missing.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Browser = "/usr/bin/chromium";
    public const string Driver = "/usr/bin/chromedriver";

    public ChromiumFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(Browser) || !File.Exists(Driver))
        {
            Skip = $"no {Browser} and {Driver}: apt-get install chromium chromium-driver (.ci/run does)";
        }
    }
}
