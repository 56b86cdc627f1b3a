namespace SharpGpt.Gpu;

/// <summary>No GPU to run on: no driver, no device, or no cuBLAS. The message says what was looked for and where.</summary>
public sealed class GpuUnavailableException(string message) : Exception(message);
