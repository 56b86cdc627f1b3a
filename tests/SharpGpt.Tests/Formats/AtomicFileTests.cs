using SharpGpt.Formats;
using SharpGpt.Tests.Data;

namespace SharpGpt.Tests.Formats;

public sealed class AtomicFileTests
{
    [Fact]
    public void AbandoningWritesDeletesTheirTemporaryFilesSoNothingHalfWrittenStays()
    {
        using var dir = new TempDirectory();
        string path = dir.File("ckpt.sgpt");
        File.WriteAllText(path, "the previous version");
        bool exited = false;

        // A second Ctrl-C in the middle of a write: the process would exit inside AbandonWrites.
        var e = Assert.Throws<SharpGptException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[1000]);
            Assert.Single(Directory.GetFiles(dir.Path, "*.tmp-*"));
            AtomicFile.AbandonWrites(() => exited = true);
            Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp-*"));
            stream.Write(new byte[1000]);
        }));

        Assert.True(exited);
        Assert.Equal(path, e.Subject);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp-*"));
        Assert.Equal("the previous version", File.ReadAllText(path));

        // Writes work again afterwards (in a process that did not exit).
        AtomicFile.Write(path, stream => stream.Write("new"u8));
        Assert.Equal("new", File.ReadAllText(path));
    }

    [Fact]
    public void AWriteThatCannotStartNamesTheFileAndLeavesNothing()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("blocker"), "a file where a folder should be");
        string path = Path.Combine(dir.File("blocker"), "ckpt.sgpt");
        var e = Assert.Throws<SharpGptException>(() => AtomicFile.Write(path, stream => stream.Write("x"u8)));
        Assert.Equal(path, e.Subject);
        Assert.StartsWith("cannot write it: ", e.Problem, StringComparison.Ordinal);
        Assert.Equal([dir.File("blocker")], Directory.GetFiles(dir.Path));
    }
}
