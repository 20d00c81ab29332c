using RecSys.Ranking.Onnx;

namespace RecSys.Ranking;

/// <summary>What the <c>score</c> verb runs: any ONNX model with one float [N, F] input over a CSV of rows.</summary>
public sealed record ScoreCsvRequest(string ModelPath, string InputPath, string OutputPath, string? OnnxRuntimePath = null, int BatchRows = 4096, int Threads = 0);

/// <summary>Rows scored, the model's input and its width, and the outputs written.</summary>
public sealed record ScoreCsvResult(long Rows, string Input, int Width, IReadOnlyList<string> Outputs);

/// <summary>Ranking tools for the command line.</summary>
public static class RankingTools
{
    /// <summary>Scores <see cref="ScoreCsvRequest.InputPath"/> with the model; writes every numeric output as CSV columns.</summary>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime is missing or refuses the model.</exception>
    /// <exception cref="InvalidDataException">The model's input is not one float [N, F], or a row does not fit it.</exception>
    public static Task<ScoreCsvResult> ScoreCsvAsync(ScoreCsvRequest request, TextWriter log, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(log);
        return CsvScorer.ScoreAsync(request, log, cancellationToken);
    }
}
