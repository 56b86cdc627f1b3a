using Microsoft.Extensions.AI;
using SharpGpt;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a SharpGPT model as the application's <see cref="IChatClient"/>.</summary>
public static class SharpGptServiceCollectionExtensions
{
    /// <summary>Registers the model in <paramref name="modelPath"/> as a singleton <see cref="GptModel"/> (opened on first
    /// use, disposed with the container) and as the <see cref="IChatClient"/>: the one line that swaps a hosted
    /// model for your own GPT.</summary>
    /// <param name="services">The services.</param>
    /// <param name="modelPath">A model file or folder, as <see cref="GptModel.Open"/> takes.</param>
    /// <param name="options">How to open it; the defaults when null.</param>
    /// <param name="defaults">Generation settings for what a request leaves unset; <see cref="GenerationOptions"/>'s defaults when null.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddGptChatClient(this IServiceCollection services, string modelPath, GptModelOptions? options = null, GenerationOptions? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        services.AddSingleton(_ => GptModel.Open(modelPath, options));
        services.AddSingleton<IChatClient>(provider => provider.GetRequiredService<GptModel>().AsChatClient(defaults, Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(modelPath))));
        return services;
    }
}
