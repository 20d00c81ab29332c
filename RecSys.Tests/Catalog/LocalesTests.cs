using RecSys.Catalog;

namespace RecSys.Tests.Catalog;

public class LocalesTests
{
    [Theory]
    [InlineData("jp", 12, 0, 21)]   // UTC+9
    [InlineData("in", 12, 0, 17)]   // UTC+5:30: 17:30
    [InlineData("in", 12, 31, 18)]  // 18:01
    [InlineData("us", 12, 0, 7)]    // Eastern standard time, UTC-5
    [InlineData("us", 1, 0, 20)]    // the previous evening
    [InlineData("br", 2, 59, 23)]   // UTC-3
    [InlineData("gb", 23, 59, 23)]
    [InlineData(null, 5, 0, 5)]     // unknown region: UTC
    public void Local_hour_is_the_regions_clock(string? region, int utcHour, int minute, int expected)
    {
        var at = new DateTimeOffset(2026, 11, 22, utcHour, minute, 0, TimeSpan.Zero).ToUnixTimeSeconds();
        Assert.Equal(expected, Locales.LocalHour(at, Locales.RegionCode(region)));
    }
}
