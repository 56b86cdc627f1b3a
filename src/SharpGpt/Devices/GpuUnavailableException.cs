namespace SharpGpt.Devices;

/// <summary>No GPU to run on: no driver, no device, no cuBLAS, or no SharpGpt.Cuda assembly. The problem says
/// what was looked for and where.</summary>
internal sealed class GpuUnavailableException(string problem) : SharpGptException("Device", problem);
