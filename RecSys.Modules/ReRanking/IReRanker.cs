using RecSys.Catalog;

namespace RecSys.ReRanking;

/// <summary>
/// Stage 5 of the funnel: picks the final list from candidates already ordered best first. Writes the chosen positions
/// (into the ordered list) to <paramref name="chosen"/> and returns how many were chosen.
/// </summary>
public interface IReRanker
{
    int ReRank(ReadOnlySpan<int> orderedItems, ItemColumns columns, int count, Span<int> chosen);
}

/// <summary>Options of the <c>ReRanking</c> section.</summary>
public sealed class ReRankingOptions
{
    public const string SectionName = "ReRanking";

    /// <summary>At most this many items of one category in a returned list.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 100)]
    public int MaxPerCategory { get; set; } = 3;
}
