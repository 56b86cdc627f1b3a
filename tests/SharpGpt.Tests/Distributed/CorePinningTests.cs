using SharpGpt.Distributed;

namespace SharpGpt.Tests.Distributed;

public sealed class CorePinningTests
{
    [Fact]
    public void PinsARankToOneCoreOnlyWhenTheRanksTakeEveryCoreAndRestoresAfter()
    {
        int cores = CorePinning.AllowedCoreCount();
        if (cores < 2)
        {
            return; // not Linux, or a single core: nothing is pinned
        }

        int pinned = -1, restored = -1;
        ulong[]? spare = [], saved = null;
        var thread = new Thread(() =>
        {
            spare = CorePinning.PinCurrentThread(0, cores - 1); // a core to spare: left alone
            saved = CorePinning.PinCurrentThread(1, cores);
            pinned = CorePinning.AllowedCoreCount();
            CorePinning.Restore(saved);
            restored = CorePinning.AllowedCoreCount();
        });
        thread.Start();
        thread.Join();

        Assert.Null(spare);
        Assert.NotNull(saved);
        Assert.Equal(1, pinned);
        Assert.Equal(cores, restored);
    }
}
