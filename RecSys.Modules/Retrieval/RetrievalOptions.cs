using System.ComponentModel.DataAnnotations;

namespace RecSys.Retrieval;

/// <summary>Options of the <c>Retrieval</c> section.</summary>
public sealed class RetrievalOptions
{
    public const string SectionName = "Retrieval";

    /// <summary>How many candidates the ANN (query vector) source returns: the K of the funnel.</summary>
    [Range(1, 5000)]
    public int AnnCount { get; set; } = 500;

    /// <summary>How many popular items join the candidates of a user with history.</summary>
    [Range(0, 5000)]
    public int PopularCount { get; set; } = 100;

    /// <summary>How many candidates a user without history (cold start) gets from the popular source.</summary>
    [Range(1, 5000)]
    public int ColdStartCount { get; set; } = 500;
}
