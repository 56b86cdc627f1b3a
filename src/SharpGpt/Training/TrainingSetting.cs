using System.Globalization;

namespace SharpGpt.Training;

/// <summary>One resolved setting of a run and where its value came from: a flag ("--lr"), a recipe ("recipe
/// gpt2-124m"), the defaults ("default") or the data ("data").</summary>
internal sealed record TrainingSetting(string Name, string Value, string Source)
{
    /// <summary>A float as a person writes it: 0.9, 6e-4, 1e-8.</summary>
    public static string Format(float value) =>
        value.ToString(value != 0 && Math.Abs(value) < 0.01f ? "0.######e0" : "0.#######", CultureInfo.InvariantCulture);
}
