using System.Reflection;

namespace SharpGpt.Tests.Api;

/// <summary>The libraries' public face: a few dozen types, no pointers, every type in its package's namespaces.</summary>
public sealed class PublicSurfaceTests
{
    public static TheoryData<string> Libraries() => ["SharpGpt.Engine", "SharpGpt.Cuda", "SharpGpt.Parquet", "SharpGpt.Plots", "SharpGpt.Server"];

    [Theory]
    [MemberData(nameof(Libraries))]
    public void No_public_member_takes_or_gives_a_pointer(string assemblyName)
    {
        var offenders = new List<string>();
        foreach (var type in Assembly.Load(assemblyName).GetExportedTypes())
        {
            foreach (var member in type.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                var types = member switch
                {
                    MethodBase method => method.GetParameters().Select(p => p.ParameterType).Append((method as MethodInfo)?.ReturnType ?? typeof(void)),
                    PropertyInfo property => [property.PropertyType],
                    FieldInfo field => [field.FieldType],
                    _ => [],
                };
                if (types.Any(t => t.IsPointer || t.IsFunctionPointer || t == typeof(nint) || t == typeof(nuint) || (t.IsByRef && t.GetElementType()!.IsPointer)))
                {
                    offenders.Add($"{type.Name}.{member.Name}");
                }
            }
        }

        Assert.Empty(offenders);
    }

    [Fact]
    public void The_engine_shows_a_few_dozen_types_in_its_own_namespaces()
    {
        var types = typeof(GptModel).Assembly.GetExportedTypes();
        Assert.InRange(types.Length, 10, 60);
        Assert.All(types, t => Assert.True(t.Namespace is "SharpGpt" or "Microsoft.Extensions.DependencyInjection", $"{t.FullName} is public outside the API's namespaces"));
        Assert.Equal(["LossPlot"], typeof(SharpGpt.Plots.LossPlot).Assembly.GetExportedTypes().Select(t => t.Name));
        Assert.Empty(typeof(SharpGpt.Gpu.GpuKernels).Assembly.GetExportedTypes());
    }
}
