using System.ComponentModel.DataAnnotations;
using RecSys.ReRanking;

namespace RecSys.Experiments;

/// <summary>Options of the <c>Experiments</c> section.</summary>
public sealed class ExperimentsOptions
{
    public const string SectionName = "Experiments";

    /// <summary>The running experiments. A user is in at most one: the first, in this order, whose traffic share takes them.</summary>
    public List<ExperimentOptions> Running { get; set; } = [];
}

public sealed class ExperimentOptions
{
    [Required]
    public string Name { get; set; } = "";

    /// <summary>Mixed into the hash; a new salt reshuffles who is in which variant.</summary>
    [Required]
    public string Salt { get; set; } = "";

    /// <summary>Fraction of users in the experiment, 0 to 1.</summary>
    [Range(0.0, 1.0)]
    public double TrafficShare { get; set; }

    public List<VariantOptions> Variants { get; set; } = [];
}

public sealed class VariantOptions
{
    [Required]
    public string Name { get; set; } = "";

    /// <summary>Relative weight within the experiment.</summary>
    [Range(0.0, 1_000_000)]
    public double Weight { get; set; } = 1;

    /// <summary>Replaces the <c>ReRanking:Rules</c> chain for this variant; empty keeps the default chain.</summary>
    public List<RuleOptions> ReRankingRules { get; set; } = [];

    /// <summary>Replaces <c>Retrieval:AnnCount</c> (the ANN source's K) for this variant; empty keeps it.</summary>
    public int? AnnCount { get; set; }

    /// <summary>Replaces <c>Retrieval:PopularCount</c> for this variant's users with history; empty keeps it.</summary>
    public int? PopularCount { get; set; }

    /// <summary>
    /// A version folder of <c>Ranking:ModelsDirectory</c> whose ranking models score this variant's requests; empty: the
    /// served (<c>current</c>) version. Loaded and validated at start-up and on every model reload.
    /// </summary>
    public string? ModelVersion { get; set; }
}

/// <summary>A user's experiment and variant, with the variant's compiled re-ranking chain (null: the default chain).</summary>
/// <param name="ModelVersion">The model version folder that scores the variant's requests; null: the served version.</param>
public sealed record ExperimentAssignment(string Experiment, string Variant, ReRankChain? ReRanking, int? AnnCount = null, int? PopularCount = null, string? ModelVersion = null)
{
    /// <summary><c>experiment/variant</c>, as responses and impressions carry it.</summary>
    public string Label { get; } = $"{Experiment}/{Variant}";
}

/// <summary>Deterministic assignment of users to experiment variants.</summary>
public interface IExperiments
{
    IReadOnlyList<ExperimentOptions> Running { get; }

    /// <summary>The user's assignment, or null when no experiment takes them. Stable for a given configuration.</summary>
    ExperimentAssignment? Assign(string userId);

    /// <summary>The variant named <c>experiment/variant</c>, or null when there is none.</summary>
    ExperimentAssignment? Find(string label);
}
