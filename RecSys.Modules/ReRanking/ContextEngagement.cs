using RecSys.Catalog;
using RecSys.Events;
using RecSys.Features;

namespace RecSys.ReRanking;

/// <summary>
/// Engagement per item in each context bucket the cold-start query uses: the 24 hours of the day, local to the user's
/// region (<see cref="Locales.LocalHour"/>; UTC when the region is unknown), and the three devices. Fed by the demo seeder with the world's log and by the event consumer with every applied event
/// (<see cref="IInteractionObserver"/>); <see cref="ColdStartQuery"/> turns it into centroids. Weights: click 1, like 2,
/// share 2, dwell 1, view 0.2; impressions and hides add nothing. One float per item per bucket (27 x items).
/// The demo log has no device: device buckets fill only from events that report <c>context.device</c>.
/// </summary>
public sealed class ContextEngagement : IInteractionObserver
{
    public const int Hours = 24;
    public const int Devices = 3;
    public const int Buckets = Hours + Devices;

    private readonly Lock _lock = new();
    private float[][] _weights = [.. Enumerable.Range(0, Buckets).Select(_ => Array.Empty<float>())];
    private readonly double[] _totals = new double[Buckets];
    private long _generation;

    /// <summary>Bumped by every observed event that adds weight; the centroids are rebuilt when it moved.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>The bucket of a device, or -1.</summary>
    public static int DeviceBucket(DeviceType device) => device switch
    {
        DeviceType.Mobile => Hours,
        DeviceType.Desktop => Hours + 1,
        DeviceType.Tablet => Hours + 2,
        _ => -1,
    };

    public static DeviceType ParseDevice(string? device) => device?.ToLowerInvariant() switch
    {
        "mobile" => DeviceType.Mobile,
        "desktop" => DeviceType.Desktop,
        "tablet" => DeviceType.Tablet,
        _ => DeviceType.Unknown,
    };

    public static float Weight(EventType type) => type switch
    {
        EventType.Click => 1f,
        EventType.Like => 2f,
        EventType.Share => 2f,
        EventType.Dwell => 1f,
        EventType.View => 0.2f,
        _ => 0f,
    };

    public void Observe(in Interaction interaction, string? device, string? userRegion)
    {
        var weight = Weight(interaction.Type);
        if (weight <= 0 || interaction.ItemIndex < 0) return;
        var hour = Locales.LocalHour(interaction.UnixSeconds, Locales.RegionCode(userRegion));
        var deviceBucket = DeviceBucket(ParseDevice(device));
        lock (_lock)
        {
            Add(hour, interaction.ItemIndex, weight);
            if (deviceBucket >= 0) Add(deviceBucket, interaction.ItemIndex, weight);
            _generation++;
        }
    }

    private void Add(int bucket, int item, float weight)
    {
        var row = _weights[bucket];
        if (item >= row.Length)
        {
            Array.Resize(ref row, Math.Max(item + 1, Math.Max(1024, row.Length * 2)));
            _weights[bucket] = row;
        }
        row[item] += weight;
        _totals[bucket] += weight;
    }

    /// <summary>The weights of one bucket (indexed by item; may be shorter than the catalog) and their total. Read without a lock: a concurrent add is seen or not.</summary>
    internal (float[] Weights, double Total) Bucket(int bucket)
    {
        lock (_lock) return (_weights[bucket], _totals[bucket]);
    }
}
