using SharpGpt.Training;

namespace SharpGpt.Tests.Training;

public sealed class LearningRateScheduleTests
{
    [Fact]
    public void WarmsUpLinearlyThenDecaysByCosineToTheMinimum()
    {
        var s = new LearningRateSchedule(1e-3f, 1e-4f, WarmupSteps: 10, MaxSteps: 110);
        Assert.Equal(1e-4f, s.At(0), 7);
        Assert.Equal(5e-4f, s.At(4), 7);
        Assert.Equal(1e-3f, s.At(9), 7);
        Assert.Equal(1e-3f, s.At(10), 7);
        Assert.Equal(5.5e-4f, s.At(60), 6); // halfway through the decay: the midpoint
        Assert.Equal(1e-4f, s.At(110), 7);
        Assert.Equal(1e-4f, s.At(500), 7);
        for (int i = 11; i < 110; i++)
        {
            Assert.True(s.At(i) < s.At(i - 1));
        }
    }
}
