using System.Text.Json;
using System.Text.Json.Serialization;

namespace RecSys.Events.Kafka;

/// <summary>The JSON shape of events and impressions on Kafka topics and in the spool (camelCase, event types as names).</summary>
internal static class EventSerializer
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static byte[] Serialize(UserEvent e) => JsonSerializer.SerializeToUtf8Bytes(e, Options);

    public static byte[] Serialize(ServedImpression impression) => JsonSerializer.SerializeToUtf8Bytes(impression, Options);

    public static UserEvent? DeserializeEvent(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize<UserEvent>(json, Options);

    public static ServedImpression? DeserializeImpression(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize<ServedImpression>(json, Options);
}
