using System.CommandLine;
using SharpGpt.Gpu;

namespace SharpGpt.Cli.Commands;

/// <summary><c>sharpgpt ptx</c>: writes the PTX of every GPU kernel, compiled without a GPU (for ptxas and for reading).</summary>
internal static class PtxCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder for one .ptx file per kernel", Required = true };
        var arch = new Option<string>("--arch") { Description = "Compute capability to compile for, e.g. sm_90 (Hopper) or sm_80 (Ampere)", DefaultValueFactory = _ => "sm_90" };
        var isa = new Option<string>("--isa") { Description = "PTX ISA version, e.g. 7.8 (what CUDA 11.8's ptxas reads)", DefaultValueFactory = _ => "7.8" };
        var command = new Command("ptx", "Compile every GPU kernel to PTX without a GPU and write one file per kernel.") { output, arch, isa };
        command.SetAction(r =>
        {
            string a = r.GetValue(arch)!, v = r.GetValue(isa)!;
            if (!a.StartsWith("sm_", StringComparison.Ordinal) || a.Length != 5 || !char.IsAsciiDigit(a[3]) || !char.IsAsciiDigit(a[4]))
            {
                Console.Error.WriteLine($"sharpgpt ptx: --arch: '{a}' is not a compute capability like sm_90.");
                return 1;
            }

            string[] parts = v.Split('.');
            if (parts.Length != 2 || !int.TryParse(parts[0], out int isaMajor) || !int.TryParse(parts[1], out int isaMinor))
            {
                Console.Error.WriteLine($"sharpgpt ptx: --isa: '{v}' is not a PTX ISA version like 7.8.");
                return 1;
            }

            var dir = r.GetValue(output)!;
            dir.Create();
            int count = 0;
            foreach (var (name, ptx) in PtxCompiler.Compile(a[3] - '0', a[4] - '0', isaMajor, isaMinor))
            {
                File.WriteAllText(Path.Combine(dir.FullName, $"{name.Replace('<', '_').Replace(">", "", StringComparison.Ordinal)}.ptx"), ptx);
                count++;
            }

            Console.WriteLine($"{count} kernels compiled to PTX ({a}, ISA {v}) in {dir.FullName}");
            return 0;
        });
        return command;
    }
}
