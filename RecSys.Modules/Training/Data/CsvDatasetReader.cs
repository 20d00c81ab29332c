using System.Globalization;
using RecSys.Events;

namespace RecSys.Training.Data;

/// <summary>
/// The generic CSV format with headers: interactions <c>user_id,item_id,timestamp[,event_type][,value]</c>, optional
/// items <c>item_id[,title][,category][,author_id][,language][,region][,created_at][,tags]</c> and users
/// <c>user_id[,age][,region][,language]</c>. Columns are found by name, in any order; unknown columns are ignored.
/// </summary>
internal static class CsvDatasetReader
{
    public static InteractionDataset Read(string interactionsPath, string? itemsPath, string? usersPath)
    {
        var builder = new DatasetBuilder();
        if (itemsPath is not null) ReadItems(itemsPath, builder);
        if (usersPath is not null) ReadUsers(usersPath, builder);
        ReadInteractions(interactionsPath, builder);
        return builder.Build(Path.GetFullPath(interactionsPath));
    }

    public static EventType ParseEventType(DelimitedFile file, string value) => value.ToLowerInvariant() switch
    {
        "impression" => EventType.Impression,
        "view" => EventType.View,
        "click" => EventType.Click,
        "like" => EventType.Like,
        "share" => EventType.Share,
        "hide" => EventType.Hide,
        "dwell" => EventType.Dwell,
        _ => throw file.Error($"unknown event_type '{value}' (expected impression, view, click, like, share, hide or dwell)."),
    };

    private static void ReadInteractions(string path, DatasetBuilder builder)
    {
        using var file = new DelimitedFile(path, ",", quotes: true);
        var fields = new List<string>();
        if (!file.Next(fields)) throw new DatasetFormatException(path, 1, "the file is empty (expected a header user_id,item_id,timestamp[,event_type][,value]).");
        var header = file.Header(fields, ["user_id", "item_id", "timestamp"]);
        var user = header["user_id"];
        var item = header["item_id"];
        var time = header["timestamp"];
        int? type = header.TryGetValue("event_type", out var t) ? t : null;
        int? value = header.TryGetValue("value", out var v) ? v : null;
        while (file.Next(fields))
        {
            if (fields.Count < header.Count) throw file.Error($"{fields.Count} fields where the header has {header.Count}.");
            var userId = file.Required(fields, user, "user_id");
            var itemId = file.Required(fields, item, "item_id");
            var seconds = file.ParseTimestamp(file.Required(fields, time, "timestamp"), "timestamp");
            var eventType = DelimitedFile.Optional(fields, type) is { } name ? ParseEventType(file, name) : EventType.Click;
            var amount = DelimitedFile.Optional(fields, value) is { } number ? file.ParseFloat(number, "value") : 1f;
            builder.Add(userId, itemId, eventType, seconds, amount);
        }
        if (builder.EventCount == 0) throw new DatasetFormatException(path, Math.Max(1, file.Line), "no interactions after the header.");
    }

    private static void ReadItems(string path, DatasetBuilder builder)
    {
        using var file = new DelimitedFile(path, ",", quotes: true);
        var fields = new List<string>();
        if (!file.Next(fields)) throw new DatasetFormatException(path, 1, "the file is empty (expected a header with item_id).");
        var header = file.Header(fields, ["item_id"]);
        int? Column(params string[] names) => names.Select(n => header.TryGetValue(n, out var c) ? c : (int?)null).FirstOrDefault(c => c is not null);
        var id = header["item_id"];
        var title = Column("title");
        var category = Column("category");
        var author = Column("author_id", "author");
        var language = Column("language");
        var region = Column("region");
        var created = Column("created_at");
        var tags = Column("tags", "genres");
        var engagement = Column("engagement");
        var nsfw = Column("nsfw");
        while (file.Next(fields))
        {
            if (fields.Count < header.Count) throw file.Error($"{fields.Count} fields where the header has {header.Count}.");
            var itemId = file.Required(fields, id, "item_id");
            if (builder.HasItem(itemId)) throw file.Error($"item '{itemId}' is listed twice.");
            var createdAt = DelimitedFile.Optional(fields, created) is { } c ? file.ParseTimestamp(c, "created_at") : (long?)null;
            var tagList = DelimitedFile.Optional(fields, tags) is { } tg
                ? tg.Split(['|', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [];
            builder.SetItem(itemId, new ItemMetadata(DelimitedFile.Optional(fields, title), DelimitedFile.Optional(fields, category),
                DelimitedFile.Optional(fields, author), DelimitedFile.Optional(fields, language), DelimitedFile.Optional(fields, region), createdAt, tagList)
            {
                Engagement = DelimitedFile.Optional(fields, engagement) is { } e ? file.ParseFloat(e, "engagement") : null,
                Nsfw = DelimitedFile.Optional(fields, nsfw) is "1" or "true",
            });
        }
    }

    private static void ReadUsers(string path, DatasetBuilder builder)
    {
        using var file = new DelimitedFile(path, ",", quotes: true);
        var fields = new List<string>();
        if (!file.Next(fields)) throw new DatasetFormatException(path, 1, "the file is empty (expected a header with user_id).");
        var header = file.Header(fields, ["user_id"]);
        var id = header["user_id"];
        int? age = header.TryGetValue("age", out var a) ? a : null;
        int? region = header.TryGetValue("region", out var r) ? r : null;
        int? language = header.TryGetValue("language", out var l) ? l : null;
        while (file.Next(fields))
        {
            if (fields.Count < header.Count) throw file.Error($"{fields.Count} fields where the header has {header.Count}.");
            var userId = file.Required(fields, id, "user_id");
            if (builder.HasUser(userId)) throw file.Error($"user '{userId}' is listed twice.");
            int? years = DelimitedFile.Optional(fields, age) is { } y
                ? (int.TryParse(y, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n is >= 0 and < 200 ? n : throw file.Error($"'age' is not an age in years: '{y}'."))
                : null;
            builder.SetUser(userId, new UserMetadata(years, DelimitedFile.Optional(fields, region), DelimitedFile.Optional(fields, language)));
        }
    }
}
