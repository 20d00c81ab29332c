using System.Globalization;
using System.Text;

namespace RecSys.Training.Data;

/// <summary>Reads a delimited text file line by line, splitting fields (RFC 4180 quoting for commas), with the line number for errors.</summary>
internal sealed class DelimitedFile : IDisposable
{
    private readonly StreamReader _reader;
    private readonly string _separator;
    private readonly bool _quotes;

    public DelimitedFile(string path, string separator, bool quotes, Encoding? encoding = null)
    {
        if (!System.IO.File.Exists(path)) throw new FileNotFoundException($"{path}: file not found.", path);
        Path = path;
        _separator = separator;
        _quotes = quotes;
        _reader = new StreamReader(path, encoding ?? new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, 1 << 16);
    }

    public string Path { get; }

    /// <summary>1-based number of the line last read.</summary>
    public int Line { get; private set; }

    /// <summary>Reads the next non-empty line into <paramref name="fields"/>; false at the end of the file.</summary>
    public bool Next(List<string> fields)
    {
        while (true)
        {
            var line = _reader.ReadLine();
            if (line is null) return false;
            Line++;
            if (line.Length == 0 || (line.Length == 1 && line[0] == '\r')) continue;
            if (line[^1] == '\r') line = line[..^1];
            fields.Clear();
            if (_quotes) SplitQuoted(line, fields);
            else fields.AddRange(line.Split(_separator));
            return true;
        }
    }

    public DatasetFormatException Error(string problem) => new(Path, Line, problem);

    private void SplitQuoted(string line, List<string> fields)
    {
        var separator = _separator[0];
        var field = new StringBuilder();
        var i = 0;
        while (true)
        {
            field.Clear();
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length) throw Error("a quoted field is not closed on this line.");
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    field.Append(line[i++]);
                }
                if (i < line.Length && line[i] != separator) throw Error($"unexpected text after a quoted field at column {i + 1}.");
            }
            else
            {
                var end = line.IndexOf(separator, i);
                if (end < 0) end = line.Length;
                field.Append(line, i, end - i);
                i = end;
            }
            fields.Add(field.ToString());
            if (i >= line.Length) return;
            i++; // the separator
        }
    }

    /// <summary>The positions of named columns in a header row; required names that are missing fail with the file and line.</summary>
    public Dictionary<string, int> Header(List<string> fields, IEnumerable<string> required)
    {
        var columns = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var c = 0; c < fields.Count; c++)
        {
            var name = fields[c].Trim();
            if (!columns.TryAdd(name, c)) throw Error($"the header names column '{name}' twice.");
        }
        var missing = required.Where(r => !columns.ContainsKey(r)).ToList();
        if (missing.Count > 0) throw Error($"the header lacks column(s) {string.Join(", ", missing)} (header: {string.Join(",", fields)}).");
        return columns;
    }

    public string Required(List<string> fields, int column, string name)
    {
        if (column >= fields.Count) throw Error($"{fields.Count} fields, so no '{name}' (column {column + 1}).");
        var value = fields[column].Trim();
        if (value.Length == 0) throw Error($"'{name}' is empty.");
        return value;
    }

    public static string? Optional(List<string> fields, int? column)
    {
        if (column is not { } c || c >= fields.Count) return null;
        var value = fields[c].Trim();
        return value.Length == 0 ? null : value;
    }

    public long ParseLong(string value, string name) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw Error($"'{name}' is not an integer: '{value}'.");

    public float ParseFloat(string value, string name) =>
        float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && float.IsFinite(v) ? v : throw Error($"'{name}' is not a finite number: '{value}'.");

    /// <summary>Unix seconds, or an ISO-8601 date-time (UTC when it carries no offset).</summary>
    public long ParseTimestamp(string value, string name)
    {
        if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)) return seconds;
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            && value.Length >= 10 && value[4] == '-')
        {
            return t.ToUnixTimeSeconds();
        }
        throw Error($"'{name}' is neither Unix seconds nor an ISO-8601 date-time: '{value}'.");
    }

    public void Dispose() => _reader.Dispose();
}
