using System.Text;
using System.Text.RegularExpressions;
using RecSys.Events;

namespace RecSys.Training.Data;

/// <summary>
/// MovieLens as GroupLens publishes it: ml-100k (<c>u.data</c>, <c>u.item</c>, <c>u.user</c>), ml-1m
/// (<c>ratings.dat</c>, <c>movies.dat</c>, <c>users.dat</c>) and ml-latest(-small) (<c>ratings.csv</c>, <c>movies.csv</c>).
/// Every rating is one interaction (a <see cref="EventType.Click"/> whose value is the rating), as in the usual
/// implicit-feedback protocol; the genres are the item's tags and the first genre its category.
/// </summary>
internal static partial class MovieLensReader
{
    private static readonly string[] Genres100K =
    [
        "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
        "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
    ];

    // The older MovieLens files are Latin-1.
    private static readonly Encoding Latin1 = Encoding.Latin1;

    public static InteractionDataset Read(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: MovieLens directory not found.");
        var builder = new DatasetBuilder();
        string name;
        if (File.Exists(Path.Combine(directory, "u.data")))
        {
            Read100KItems(Path.Combine(directory, "u.item"), builder);
            Read100KUsers(Path.Combine(directory, "u.user"), builder);
            ReadRatings(Path.Combine(directory, "u.data"), "\t", header: false, builder);
            name = "movielens-100k";
        }
        else if (File.Exists(Path.Combine(directory, "ratings.dat")))
        {
            ReadDatMovies(Path.Combine(directory, "movies.dat"), builder);
            Read1MUsers(Path.Combine(directory, "users.dat"), builder);
            ReadRatings(Path.Combine(directory, "ratings.dat"), "::", header: false, builder);
            name = "movielens-1m";
        }
        else if (File.Exists(Path.Combine(directory, "ratings.csv")))
        {
            ReadCsvMovies(Path.Combine(directory, "movies.csv"), builder);
            ReadRatings(Path.Combine(directory, "ratings.csv"), ",", header: true, builder);
            name = "movielens-latest";
        }
        else
        {
            throw new FileNotFoundException($"{directory}: no MovieLens ratings file (u.data, ratings.dat or ratings.csv).");
        }
        return builder.Build($"{name} ({Path.GetFullPath(directory)})");
    }

    private static void ReadRatings(string path, string separator, bool header, DatasetBuilder builder)
    {
        using var file = new DelimitedFile(path, separator, quotes: separator == ",");
        var fields = new List<string>();
        if (header && file.Next(fields)) file.Header(fields, ["userId", "movieId", "rating", "timestamp"]);
        while (file.Next(fields))
        {
            if (fields.Count != 4) throw file.Error($"{fields.Count} fields, expected 4 (user, movie, rating, timestamp).");
            var user = file.Required(fields, 0, "user id");
            var item = file.Required(fields, 1, "movie id");
            var rating = file.ParseFloat(file.Required(fields, 2, "rating"), "rating");
            if (rating is < 0 or > 10) throw file.Error($"rating {rating} is outside 0..10.");
            var seconds = file.ParseLong(file.Required(fields, 3, "timestamp"), "timestamp");
            builder.Add(user, item, EventType.Click, seconds, rating);
        }
        if (builder.EventCount == 0) throw new DatasetFormatException(path, Math.Max(1, file.Line), "no ratings.");
    }

    private static void Read100KItems(string path, DatasetBuilder builder)
    {
        if (!File.Exists(path)) return;
        using var file = new DelimitedFile(path, "|", quotes: false, Latin1);
        var fields = new List<string>();
        while (file.Next(fields))
        {
            if (fields.Count != 5 + Genres100K.Length) throw file.Error($"{fields.Count} fields, expected {5 + Genres100K.Length}.");
            var id = file.Required(fields, 0, "movie id");
            var genres = new List<string>();
            for (var g = 0; g < Genres100K.Length; g++)
            {
                var flag = fields[5 + g].Trim();
                if (flag == "1") genres.Add(Genres100K[g]);
                else if (flag != "0") throw file.Error($"genre flag '{flag}' is neither 0 nor 1.");
            }
            builder.SetItem(id, Movie(fields[1], genres));
        }
    }

    private static void Read100KUsers(string path, DatasetBuilder builder)
    {
        if (!File.Exists(path)) return;
        using var file = new DelimitedFile(path, "|", quotes: false, Latin1);
        var fields = new List<string>();
        while (file.Next(fields))
        {
            if (fields.Count != 5) throw file.Error($"{fields.Count} fields, expected 5 (id, age, gender, occupation, zip).");
            builder.SetUser(file.Required(fields, 0, "user id"), new UserMetadata((int)file.ParseLong(file.Required(fields, 1, "age"), "age"), null, null));
        }
    }

    private static void ReadDatMovies(string path, DatasetBuilder builder)
    {
        if (!File.Exists(path)) return;
        using var file = new DelimitedFile(path, "::", quotes: false, Latin1);
        var fields = new List<string>();
        while (file.Next(fields))
        {
            if (fields.Count != 3) throw file.Error($"{fields.Count} fields, expected 3 (id, title, genres).");
            builder.SetItem(file.Required(fields, 0, "movie id"), Movie(fields[1], fields[2].Split('|', StringSplitOptions.RemoveEmptyEntries)));
        }
    }

    private static void Read1MUsers(string path, DatasetBuilder builder)
    {
        if (!File.Exists(path)) return;
        using var file = new DelimitedFile(path, "::", quotes: false, Latin1);
        var fields = new List<string>();
        while (file.Next(fields))
        {
            if (fields.Count != 5) throw file.Error($"{fields.Count} fields, expected 5 (id, gender, age, occupation, zip).");
            builder.SetUser(file.Required(fields, 0, "user id"), new UserMetadata((int)file.ParseLong(file.Required(fields, 2, "age"), "age"), null, null));
        }
    }

    private static void ReadCsvMovies(string path, DatasetBuilder builder)
    {
        if (!File.Exists(path)) return;
        using var file = new DelimitedFile(path, ",", quotes: true);
        var fields = new List<string>();
        if (!file.Next(fields)) return;
        file.Header(fields, ["movieId", "title", "genres"]);
        while (file.Next(fields))
        {
            if (fields.Count != 3) throw file.Error($"{fields.Count} fields, expected 3 (movieId, title, genres).");
            var genres = fields[2].Split('|', StringSplitOptions.RemoveEmptyEntries).Where(g => g != "(no genres listed)").ToList();
            builder.SetItem(file.Required(fields, 0, "movieId"), Movie(fields[1], genres));
        }
    }

    private static ItemMetadata Movie(string title, IReadOnlyList<string> genres)
    {
        var match = YearPattern().Match(title);
        long? released = match.Success ? new DateTimeOffset(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds() : null;
        return new ItemMetadata(title.Trim(), genres.Count > 0 ? genres[0] : null, null, null, null, released, genres);
    }

    [GeneratedRegex(@"\((\d{4})\)\s*$")]
    private static partial Regex YearPattern();
}
