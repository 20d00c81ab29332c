using System.Globalization;
using System.Text;

namespace RecSys.Ranking.Onnx;

/// <summary>
/// Scores a CSV of feature rows with any ONNX model that has one float input of shape [N, F]: names and shapes come from
/// the model, a header row is optional, and every tensor output is written as columns (an [N, k] output named y becomes
/// y_0 .. y_{k-1}). Outputs that are not tensors (the ZipMap dictionaries some converters add) are skipped and named.
/// </summary>
internal static class CsvScorer
{
    public static async Task<ScoreCsvResult> ScoreAsync(ScoreCsvRequest request, TextWriter log, CancellationToken cancellationToken)
    {
        var runtime = OnnxRuntime.Load(request.OnnxRuntimePath);
        using var model = OnnxModel.Load(runtime, request.ModelPath, new OnnxSessionSettings("cpu", request.Threads, "all"));
        if (model.Inputs.Count != 1 || model.Inputs[0].ElementType != "float" || model.Inputs[0].Shape.Count != 2)
        {
            throw new InvalidDataException($"{request.ModelPath} must have one float input of shape [N, F]; it has {string.Join(", ", model.Inputs.Select(Describe))}.");
        }
        var skipped = model.Outputs.Where(o => o.Shape.Count == 0 || o.ElementType is not ("float" or "int64" or "double")).Select(o => o.Name).ToList();
        foreach (var name in skipped) await log.WriteLineAsync($"output '{name}' is not a numeric tensor; skipped");

        using var reader = new StreamReader(request.InputPath);
        await using var writer = new StreamWriter(request.OutputPath, false, new UTF8Encoding(false));
        var width = model.InputWidth;
        var batch = new List<float[]>(request.BatchRows);
        var lineNumber = 0;
        var rows = 0L;
        var headerWritten = false;
        string? line;
        while ((line = await reader.ReadLineAsync(cancellationToken)) is not null)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var fields = line.Split(',');
            if (lineNumber == 1 && !float.TryParse(fields[0].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _)) continue; // a header
            if (width < 0) width = fields.Length;
            if (fields.Length != width) throw new InvalidDataException($"{request.InputPath} line {lineNumber} has {fields.Length} values; the model's input '{model.Inputs[0].Name}' takes {width}.");
            var row = new float[width];
            for (var i = 0; i < width; i++)
            {
                if (!float.TryParse(fields[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out row[i]))
                {
                    throw new InvalidDataException($"{request.InputPath} line {lineNumber} column {i + 1}: '{fields[i]}' is not a number.");
                }
            }
            batch.Add(row);
            if (batch.Count == request.BatchRows)
            {
                headerWritten = await FlushAsync(model, batch, width, writer, headerWritten);
                rows += batch.Count;
                batch.Clear();
            }
        }
        if (batch.Count > 0)
        {
            headerWritten = await FlushAsync(model, batch, width, writer, headerWritten);
            rows += batch.Count;
        }
        return new ScoreCsvResult(rows, model.Inputs[0].Name, width, model.Outputs.Select(o => o.Name).Except(skipped).ToList());
    }

    private static async Task<bool> FlushAsync(OnnxModel model, List<float[]> batch, int width, StreamWriter writer, bool headerWritten)
    {
        var n = batch.Count;
        var input = new float[n * width];
        for (var r = 0; r < n; r++) batch[r].CopyTo(input, r * width);
        var outputs = model.RunAllocated(input, n, width).Where(o => o.Shape.Length > 0 && o.Shape[0] == n).ToList();
        var widths = outputs.Select(o => n == 0 ? 0 : o.Values.Length / n).ToList();
        if (!headerWritten)
        {
            var names = outputs.SelectMany((o, i) => widths[i] == 1 ? [o.Name] : Enumerable.Range(0, widths[i]).Select(k => $"{o.Name}_{k}"));
            await writer.WriteLineAsync(string.Join(',', names));
        }
        var line = new StringBuilder();
        for (var r = 0; r < n; r++)
        {
            line.Clear();
            for (var o = 0; o < outputs.Count; o++)
            {
                for (var k = 0; k < widths[o]; k++)
                {
                    if (line.Length > 0) line.Append(',');
                    line.Append(outputs[o].Values[(r * widths[o]) + k].ToString("R", CultureInfo.InvariantCulture));
                }
            }
            await writer.WriteLineAsync(line);
        }
        return true;
    }

    private static string Describe(OnnxTensorInfo t) => $"{t.Name}: {t.ElementType}[{string.Join(", ", t.Shape)}]";
}
