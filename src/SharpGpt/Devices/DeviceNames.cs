namespace SharpGpt.Devices;

/// <summary>The devices' names as runs record and print them.</summary>
internal static class DeviceNames
{
    public static readonly string[] All = ["cpu", "cuda", "cuda-emulated"];

    public static string Of(DeviceKind kind) => All[(int)kind];
}
