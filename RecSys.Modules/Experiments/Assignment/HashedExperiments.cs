using Microsoft.Extensions.Options;
using RecSys.ReRanking;

namespace RecSys.Experiments.Assignment;

/// <summary>
/// Assigns by hashing: <c>h = Hash(salt, userId)</c> picks whether the user is in the experiment (h's first uniform in
/// [0, 1) below the traffic share), a second hash of the same pair picks the variant by weight. No state, no allocation
/// on the assignment path beyond the result.
/// </summary>
internal sealed class HashedExperiments : IExperiments
{
    private readonly ExperimentsOptions _options;
    private readonly (ExperimentOptions Experiment, ExperimentAssignment[] Variants, double[] CumulativeWeights)[] _compiled;

    public HashedExperiments(IOptions<ExperimentsOptions> options, IReRanker reRanker)
    {
        _options = options.Value;
        _compiled = [.. _options.Running.Select(e =>
        {
            var variants = e.Variants.Select(v => new ExperimentAssignment(e.Name, v.Name, v.ReRankingRules.Count == 0 ? null : reRanker.Compile(v.ReRankingRules), v.AnnCount, v.PopularCount, string.IsNullOrWhiteSpace(v.ModelVersion) ? null : v.ModelVersion.Trim())).ToArray();
            var total = e.Variants.Sum(v => v.Weight);
            var cumulative = new double[variants.Length];
            var sum = 0.0;
            for (var i = 0; i < variants.Length; i++) cumulative[i] = (sum += e.Variants[i].Weight) / total;
            return (e, variants, cumulative);
        })];
    }

    public IReadOnlyList<ExperimentOptions> Running => _options.Running;

    public ExperimentAssignment? Assign(string userId)
    {
        ArgumentNullException.ThrowIfNull(userId);
        foreach (var (experiment, variants, cumulative) in _compiled)
        {
            if (variants.Length == 0) continue;
            if (Unit(Hash(experiment.Salt, userId, 0)) >= experiment.TrafficShare) continue;
            var u = Unit(Hash(experiment.Salt, userId, 1));
            for (var i = 0; i < variants.Length; i++)
            {
                if (u < cumulative[i]) return variants[i];
            }
            return variants[^1];
        }
        return null;
    }

    public ExperimentAssignment? Find(string label)
    {
        foreach (var (_, variants, _) in _compiled)
        {
            foreach (var v in variants)
            {
                if (string.Equals(v.Label, label, StringComparison.OrdinalIgnoreCase)) return v;
            }
        }
        return null;
    }


    /// <summary>FNV-1a over the salt, a separator, the user id and the purpose, then a SplitMix64 finaliser for avalanche.</summary>
    internal static ulong Hash(string salt, string userId, byte purpose)
    {
        var h = 14695981039346656037UL;
        foreach (var c in salt) h = (h ^ c) * 1099511628211UL;
        h = (h ^ 0x1F) * 1099511628211UL;
        foreach (var c in userId) h = (h ^ c) * 1099511628211UL;
        h = (h ^ purpose) * 1099511628211UL;
        h ^= h >> 30;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 27;
        h *= 0x94D049BB133111EBUL;
        h ^= h >> 31;
        return h;
    }

    /// <summary>The top 53 bits as a double in [0, 1).</summary>
    internal static double Unit(ulong hash) => (hash >> 11) * (1.0 / (1UL << 53));
}

/// <summary>Names, salts, shares, variants and their rule overrides checked at start-up.</summary>
internal sealed class ExperimentsValidator(IReRanker reRanker) : IValidateOptions<ExperimentsOptions>
{
    public ValidateOptionsResult Validate(string? name, ExperimentsOptions options)
    {
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var e in options.Running)
        {
            var where = $"Experiments:Running '{e.Name}'";
            if (string.IsNullOrWhiteSpace(e.Name) || e.Name.Contains('/', StringComparison.Ordinal)) errors.Add($"{where}: Name is required and may not contain '/'.");
            if (!names.Add(e.Name)) errors.Add($"{where}: duplicate Name.");
            if (string.IsNullOrEmpty(e.Salt)) errors.Add($"{where}: Salt is required.");
            if (e.TrafficShare is < 0 or > 1) errors.Add($"{where}: TrafficShare must be in [0, 1].");
            if (e.Variants.Count == 0) errors.Add($"{where}: at least one variant is required.");
            if (e.Variants.Any(v => v.Weight < 0) || (e.Variants.Count > 0 && e.Variants.Sum(v => v.Weight) <= 0)) errors.Add($"{where}: variant weights must be >= 0 and not all 0.");
            if (e.Variants.Select(v => v.Name).Distinct(StringComparer.OrdinalIgnoreCase).Count() != e.Variants.Count) errors.Add($"{where}: duplicate variant names.");
            foreach (var v in e.Variants)
            {
                if (string.IsNullOrWhiteSpace(v.Name) || v.Name.Contains('/', StringComparison.Ordinal)) errors.Add($"{where}: a variant Name is required and may not contain '/'.");
                if (v.AnnCount is < 1 or > 5000) errors.Add($"{where} variant '{v.Name}': AnnCount must be from 1 to 5000.");
                if (v.PopularCount is < 0 or > 5000) errors.Add($"{where} variant '{v.Name}': PopularCount must be from 0 to 5000.");
                if (v.ModelVersion is { } version && !string.IsNullOrWhiteSpace(version) && (version.Trim().IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || version.Trim() is "." or ".."))
                {
                    errors.Add($"{where} variant '{v.Name}': ModelVersion must name a version folder of Ranking:ModelsDirectory; got '{version}'.");
                }
                try
                {
                    if (v.ReRankingRules.Count > 0) reRanker.Compile(v.ReRankingRules);
                }
                catch (ArgumentException ex)
                {
                    errors.Add($"{where} variant '{v.Name}': {ex.Message}");
                }
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>The model versions the variants name, for the model store to load beside the served one.</summary>
internal sealed class VariantModelVersions(IOptions<ExperimentsOptions> options) : RecSys.Ranking.IModelVersionRequirements
{
    public IReadOnlyList<RecSys.Ranking.RequiredModelVersion> Versions { get; } =
        [.. options.Value.Running.SelectMany(e => e.Variants
            .Where(v => !string.IsNullOrWhiteSpace(v.ModelVersion))
            .Select(v => new RecSys.Ranking.RequiredModelVersion(v.ModelVersion!.Trim(), $"experiment '{e.Name}' variant '{v.Name}'")))];
}
