using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace SharpGpt.Gpu;

/// <summary>
/// Compiles every GPU kernel to PTX without a GPU, with ILGPU's PTX backend, so that CI can check
/// that each one compiles for NVIDIA (and, with ptxas, assembles for Hopper). The kernels are the
/// static void methods named *Kernel in <see cref="Kernels"/>'s namespace; the generic ones are
/// instantiated for the element types the backend loads them with.
/// </summary>
internal static class PtxCompiler
{
    private static readonly Type[] GenericElementTypes = [typeof(float), typeof(ushort)];

    /// <summary>Every kernel method, named Type.Method (with its element type when generic).</summary>
    public static IReadOnlyList<(string Name, MethodInfo Method)> Kernels()
    {
        var kernels = new List<(string, MethodInfo)>();
        foreach (var type in typeof(PtxCompiler).Assembly.GetTypes().Where(t => t.Namespace == typeof(Kernels.KernelMath).Namespace).OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            var methods = type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .Where(m => m.Name.EndsWith("Kernel", StringComparison.Ordinal) && m.ReturnType == typeof(void))
                .OrderBy(m => m.Name, StringComparer.Ordinal);
            foreach (var method in methods)
            {
                if (method.IsGenericMethodDefinition)
                {
                    kernels.AddRange(GenericElementTypes.Select(t => ($"{type.Name}.{method.Name}<{t.Name}>", method.MakeGenericMethod(t))));
                }
                else
                {
                    kernels.Add(($"{type.Name}.{method.Name}", method));
                }
            }
        }

        return kernels;
    }

    /// <summary>The PTX of every kernel for a compute capability and PTX ISA version (defaults: Hopper, ISA 7.8).</summary>
    public static IEnumerable<(string Name, string Ptx)> Compile(int major = 9, int minor = 0, int isaMajor = 7, int isaMinor = 8)
    {
        using var context = Context.Create(builder => builder.Default());
        var architecture = new CudaArchitecture(major, minor);
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, new CudaInstructionSet(isaMajor, isaMinor), null);
        foreach (var (name, method) in Kernels())
        {
            var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), default(KernelSpecialization));
            yield return (name, compiled.PTXAssembly);
        }
    }
}
