namespace SharpGpt.Gpu;

/// <summary>No GPU to run on: no driver, no device, or no cuBLAS. The problem says what was looked for and where.</summary>
public sealed class GpuUnavailableException(string problem) : UserErrorException("--device cuda", problem);
