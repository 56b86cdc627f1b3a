namespace SharpGpt.Devices;

/// <summary>The names <c>--device</c> takes and prints.</summary>
public static class DeviceNames
{
    public static readonly string[] All = ["cpu", "cuda", "cuda-emulated"];

    public static string Of(DeviceKind kind) => All[(int)kind];

    public static DeviceKind Parse(string name)
    {
        int i = Array.IndexOf(All, name.ToLowerInvariant());
        return i >= 0 ? (DeviceKind)i : throw new UserErrorException("--device", $"'{name}' is not a device", $"use {string.Join(", ", All)}");
    }
}
