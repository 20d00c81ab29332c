using System.Numerics.Tensors;
using RecSys.Catalog;
using RecSys.Retrieval;

namespace RecSys.ReRanking.Rules;

/// <summary>One step of the re-ranking chain. Rules edit the shared <see cref="RuleList"/> in place and mark the items they move.</summary>
internal interface IReRankRule
{
    string Name { get; }

    string Why { get; }

    void Apply(in ReRankInput input, RuleList list, ulong bit);
}

/// <summary>Blocked authors never; NSFW removed for users who disallow it, demoted by <c>weight</c> otherwise.</summary>
internal sealed class SafetyRule(double demotion) : IReRankRule
{
    public string Name => "safety";
    public string Why => $"NSFW demoted by {demotion:0.###} (removed when not allowed); blocked authors removed";

    public void Apply(in ReRankInput input, RuleList list, ulong bit)
    {
        var demoted = false;
        for (var i = list.Length - 1; i >= 0; i--)
        {
            var value = list.Slots[i];
            var item = list.ItemOf(input, value);
            if (!input.IsAllowedBySafety(item)) { list.Remove(i, bit); continue; }
            if (input.Columns.Nsfw[item] && demotion > 0)
            {
                list.Relevance[value] -= (float)demotion;
                list.Marks[value] |= bit;
                demoted = true;
            }
        }
        if (demoted) list.SortByRelevance(0);
    }
}

/// <summary>
/// Cold start: adds <c>weight</c> x cosine(context vector, item) to every candidate's relevance and re-selects the window
/// as the best by the blended relevance, so interests and locale reorder the popular-in-region candidates. Run it first.
/// </summary>
internal sealed class ContextRule(double weight, double localeWeight) : IReRankRule
{
    public string Name => "context";
    public string Why => $"matches your region, language or interests (weight {weight:0.##}, locale {localeWeight:0.##})";

    public void Apply(in ReRankInput input, RuleList list, ulong bit)
    {
        if (!input.ColdStart) return;
        var embeddings = input.QueryVector.IsEmpty ? null : input.Embeddings;
        var language = input.LanguageCode ?? Locales.Unknown;
        var region = input.RegionCode ?? Locales.Unknown;
        if (embeddings is null && language == Locales.Unknown && region == Locales.Unknown) return;
        var before = list.ScratchInt;
        before[..list.N].Fill(int.MaxValue);
        for (var i = 0; i < list.Length; i++) before[list.Slots[i]] = i;
        // Rescale relevance over all candidates (not just the window) so the bonus can lift an item from anywhere.
        var relevance = list.Relevance[..list.N];
        var min = TensorPrimitives.Min(relevance);
        var range = TensorPrimitives.Max(relevance) - min;
        if (range > 0) for (var p = 0; p < relevance.Length; p++) relevance[p] = (relevance[p] - min) / range;
        var w = (float)weight;
        for (var p = 0; p < list.N; p++)
        {
            var item = input.Items[input.Order[p]];
            var bonus = 0f;
            if (embeddings is not null) bonus += w * TensorPrimitives.CosineSimilarity(input.QueryVector, embeddings.Vector(item));
            if (language != Locales.Unknown && input.Columns.LanguageCodes[item] == language) bonus += (float)localeWeight;
            if (region != Locales.Unknown && input.Columns.RegionCodes[item] == region) bonus += (float)(localeWeight / 2);
            list.Relevance[p] += bonus;
        }
        // Re-select the window: the best `window` positions by blended relevance (insertion into the short sorted list).
        var window = list.Length;
        var length = 0;
        var slots = list.ScratchOrder;
        for (var p = 0; p < list.N; p++)
        {
            if (list.Removed[p]) continue;
            var key = list.Relevance[p];
            if (length == window && key <= list.Relevance[slots[length - 1]]) continue;
            var at = length < window ? length++ : window - 1;
            while (at > 0 && list.Relevance[slots[at - 1]] < key)
            {
                slots[at] = slots[at - 1];
                at--;
            }
            slots[at] = p;
        }
        slots[..length].CopyTo(list.SlotsBuffer);
        list.SetLength(length);
        for (var i = 0; i < length; i++)
        {
            if (i < before[slots[i]]) list.Marks[slots[i]] |= bit;
        }
    }
}

/// <summary>Removes items served to this user within the seen window, so repeated calls move on.</summary>
internal sealed class SeenRule : IReRankRule
{
    public string Name => "seen";
    public string Why => "already shown to you recently";

    public void Apply(in ReRankInput input, RuleList list, ulong bit)
    {
        if (input.SeenItems is not { Count: > 0 } seen) return;
        for (var i = list.Length - 1; i >= 0; i--)
        {
            if (seen.Contains(list.ItemOf(input, list.Slots[i]))) list.Remove(i, bit);
        }
    }
}

/// <summary>Adds <c>weight</c> x 2^(-age / half-life) to the relevance, then re-sorts; items that moved up are marked.</summary>
internal sealed class FreshnessRule(double halfLifeHours, double weight) : IReRankRule
{
    public string Name => "freshness";
    public string Why => $"boosted as new (+{weight:0.###} halving every {halfLifeHours:0.#} h)";

    public void Apply(in ReRankInput input, RuleList list, ulong bit)
    {
        var now = input.Now.ToUnixTimeSeconds();
        var created = input.Columns.CreatedAtUnixSeconds;
        foreach (var value in list.Slots)
        {
            var ageHours = Math.Max(0, now - created[list.ItemOf(input, value)]) / 3600.0;
            list.Relevance[value] += (float)(weight * Math.Pow(2, -ageHours / halfLifeHours));
        }
        list.SortByRelevance(bit);
    }
}

internal enum CapKey { Category, Author }

/// <summary>
/// At most <c>max</c> items per category or author. Hard (default): later items over the cap are removed, and the list
/// may come out shorter. Soft: they move below every item within the cap instead, so concentrated candidates (few
/// authors, say) still fill the list.
/// </summary>
internal sealed class CapRule(CapKey key, int max, bool soft) : IReRankRule
{
    public string Name => key == CapKey.Category ? "categoryCap" : "authorCap";
    public string Why => $"at most {max} per {(key == CapKey.Category ? "category" : "author")}{(soft ? " (soft: the rest go last)" : "")}";

    public void Apply(in ReRankInput input, RuleList list, ulong bit)
    {
        var keys = key == CapKey.Category ? input.Columns.CategoryIds : input.Columns.AuthorIndices;
        var kept = list.ScratchInt;
        var overflow = list.ScratchOrder;
        var keptCount = 0;
        var overflowCount = 0;
        var w = 0;
        var slots = list.Slots;
        for (var i = 0; i < slots.Length; i++)
        {
            var value = slots[i];
            var k = keys[list.ItemOf(input, value)];
            // Lists are short (the window), so a linear count beats any set and allocates nothing.
            if (kept[..keptCount].Count(k) >= max)
            {
                list.Marks[value] |= bit;
                if (soft) overflow[overflowCount++] = value;
                else list.Removed[value] = true;
                continue;
            }
            kept[keptCount++] = k;
            slots[w++] = value;
        }
        overflow[..overflowCount].CopyTo(slots[w..]);
        list.SetLength(w + overflowCount);
    }
}

/// <summary>At most <c>max</c> items found by one source.</summary>
internal sealed class SourceCapRule(CandidateSource source, string sourceName, int max) : IReRankRule
{
    public string Name => "sourceCap";
    public string Why => $"at most {max} from {sourceName}";

    public void Apply(in ReRankInput input, RuleList list, ulong bit)
    {
        var count = 0;
        var w = 0;
        var slots = list.Slots;
        for (var i = 0; i < slots.Length; i++)
        {
            var value = slots[i];
            if ((list.SourceOf(input, value) & source) != 0 && ++count > max)
            {
                list.Removed[value] = true;
                list.Marks[value] |= bit;
                continue;
            }
            slots[w++] = value;
        }
        list.SetLength(w);
    }
}

/// <summary>
/// At least <c>min</c> items found by one source among the first <see cref="RuleList.Target"/>, when the window has them:
/// the best of them below the cut join the end of the list above it, and the lowest items of other sources drop just below the cut.
/// </summary>
internal sealed class SourceMinimumRule(CandidateSource source, string sourceName, int min) : IReRankRule
{
    public string Name => "sourceMinimum";
    public string Why => $"at least {min} from {sourceName}";

    public void Apply(in ReRankInput input, RuleList list, ulong bit)
    {
        var slots = list.Slots;
        var top = Math.Min(list.Target, slots.Length);
        var count = 0;
        for (var i = 0; i < top; i++) if (Has(input, list, slots[i])) count++;
        if (count >= min) return;
        // role: 0 stays, 1 drops below the cut, 2 is promoted.
        var role = list.ScratchInt;
        foreach (var value in slots) role[value] = 0;
        var moves = 0;
        var lastOther = top - 1;
        for (var j = top; j < slots.Length && count + moves < min; j++)
        {
            if (!Has(input, list, slots[j])) continue;
            while (lastOther >= 0 && Has(input, list, slots[lastOther])) lastOther--;
            if (lastOther < 0) break;
            role[slots[lastOther--]] = 1;
            role[slots[j]] = 2;
            list.Marks[slots[j]] |= bit;
            moves++;
        }
        if (moves == 0) return;
        var rebuilt = list.ScratchOrder;
        var w = 0;
        for (var i = 0; i < top; i++) if (role[slots[i]] == 0) rebuilt[w++] = slots[i];
        for (var i = top; i < slots.Length; i++) if (role[slots[i]] == 2) rebuilt[w++] = slots[i];
        for (var i = 0; i < top; i++) if (role[slots[i]] == 1) rebuilt[w++] = slots[i];
        for (var i = top; i < slots.Length; i++) if (role[slots[i]] == 0) rebuilt[w++] = slots[i];
        rebuilt[..w].CopyTo(slots);
    }

    private bool Has(in ReRankInput input, RuleList list, int value) => (list.SourceOf(input, value) & source) != 0;
}

/// <summary>
/// Maximal marginal relevance: picks the first <see cref="RuleList.Target"/> greedily by
/// lambda x relevance - (1 - lambda) x (highest cosine similarity to an item already picked).
/// </summary>
internal sealed class MmrRule(double lambda) : IReRankRule
{
    public string Name => "mmr";
    public string Why => $"diversified against items above it (MMR, lambda {lambda:0.##})";

    public void Apply(in ReRankInput input, RuleList list, ulong bit)
    {
        if (input.Embeddings is not { } embeddings) return;
        var slots = list.Slots;
        var top = Math.Min(list.Target, slots.Length);
        var before = list.ScratchInt;
        var maxSimilarity = list.ScratchFloat;
        for (var i = 0; i < slots.Length; i++)
        {
            before[slots[i]] = i;
            maxSimilarity[slots[i]] = 0;
        }
        var l = (float)lambda;
        for (var k = 0; k < top; k++)
        {
            var best = k;
            var bestValue = float.NegativeInfinity;
            for (var j = k; j < slots.Length; j++)
            {
                var v = slots[j];
                var mmr = l * list.Relevance[v] - (1 - l) * (k == 0 ? 0 : maxSimilarity[v]);
                if (mmr > bestValue) { bestValue = mmr; best = j; }
            }
            list.Move(best, k);
            var chosen = embeddings.Vector(list.ItemOf(input, slots[k]));
            for (var j = k + 1; j < slots.Length; j++)
            {
                var v = slots[j];
                var similarity = TensorPrimitives.CosineSimilarity(chosen, embeddings.Vector(list.ItemOf(input, v)));
                if (similarity > maxSimilarity[v]) maxSimilarity[v] = similarity;
            }
        }
        for (var i = 0; i < top; i++)
        {
            if (before[slots[i]] != i) list.Marks[slots[i]] |= bit;
        }
    }
}

/// <summary>
/// Business pins: each item at its 1-based position when it may be shown and its relevance reaches the floor. Relevance
/// of a pin is the cosine of its vector to the user's query vector; a user without one (cold start) passes the floor.
/// </summary>
internal sealed class PinsRule(IReadOnlyList<(string ItemId, int Position)> pins, double floor, Func<string, int> resolve) : IReRankRule
{
    public string Name => "pins";
    public string Why => $"pinned (relevance floor {floor:0.##})";

    public void Apply(in ReRankInput input, RuleList list, ulong bit)
    {
        foreach (var (itemId, position) in pins)
        {
            var item = resolve(itemId);
            if (item < 0 || item >= input.Columns.Count || !list.MayInsert(input, item)) continue;
            var relevance = 1f;
            if (!input.QueryVector.IsEmpty && input.Embeddings is { } embeddings)
            {
                relevance = TensorPrimitives.CosineSimilarity(input.QueryVector, embeddings.Vector(item));
            }
            if (relevance < floor) continue;
            var index = -1;
            for (var i = 0; i < list.Length; i++)
            {
                if (list.ItemOf(input, list.Slots[i]) == item) { index = i; break; }
            }
            var to = Math.Min(position - 1, list.Length - (index >= 0 ? 1 : 0));
            if (index >= 0)
            {
                list.Move(index, to);
                list.Marks[list.Slots[to]] |= bit;
                continue;
            }
            var value = FindCandidate(input, list, item);
            if (value < 0) value = list.AddExternal(item, relevance);
            if (value < 0) continue;
            list.Removed[value] = false;
            list.Marks[value] |= bit;
            list.Insert(to, value);
        }
    }

    private static int FindCandidate(in ReRankInput input, RuleList list, int item)
    {
        for (var p = 0; p < list.N; p++)
        {
            if (input.Items[input.Order[p]] == item) return p;
        }
        return -1;
    }
}

/// <summary>
/// Exploration: <c>slots</c> positions filled by Thompson sampling over Beta(clicks + 1, non-click impressions + 1) among
/// the candidates below the cut (or outside the window) that are fresh or under-exposed and that no rule removed.
/// </summary>
internal sealed class ExploreRule(int slots, IReadOnlyList<int> positions, int maxImpressions, double freshHours, Random random) : IReRankRule
{
    public const int MaxSlots = 10;

    public string Name => "explore";
    public string Why => $"exploring a new or little-shown item ({slots} slot(s), Thompson sampling)";

    public void Apply(in ReRankInput input, RuleList list, ulong bit)
    {
        if (slots == 0) return;
        var top = Math.Min(list.Target, list.Length);
        // Which ranked positions are already in the top: ScratchInt holds 1 for them.
        var inTop = list.ScratchInt;
        inTop[..list.N].Clear();
        for (var i = 0; i < top; i++) if (list.Slots[i] < list.N) inTop[list.Slots[i]] = 1;

        Span<int> bestValues = stackalloc int[MaxSlots];
        Span<double> bestSamples = stackalloc double[MaxSlots];
        var found = 0;
        var now = input.Now.ToUnixTimeSeconds();
        for (var p = 0; p < list.N; p++)
        {
            if (inTop[p] != 0 || list.Removed[p]) continue;
            var candidate = input.Order[p];
            var item = input.Items[candidate];
            var stats = input.Stats.IsEmpty ? default : input.Stats[candidate];
            var fresh = (now - input.Columns.CreatedAtUnixSeconds[item]) / 3600.0 < freshHours;
            if (!fresh && stats.Impressions >= maxImpressions) continue;
            if (!list.MayInsert(input, item)) continue;
            var clicks = Math.Max(0, stats.Clicks);
            var sample = Beta.Sample(random, clicks + 1, Math.Max(0, stats.Impressions - clicks) + 1);
            // Keep the best `slots` samples, in descending order (insertion into a tiny array).
            var at = found < slots ? found++ : slots;
            if (at == slots && sample <= bestSamples[slots - 1]) continue;
            if (at == slots) at = slots - 1;
            while (at > 0 && bestSamples[at - 1] < sample)
            {
                bestSamples[at] = bestSamples[at - 1];
                bestValues[at] = bestValues[at - 1];
                at--;
            }
            bestSamples[at] = sample;
            bestValues[at] = p;
        }
        for (var k = 0; k < found; k++)
        {
            var to = k < positions.Count ? positions[k] - 1 : top - found + k;
            to = Math.Clamp(to, 0, Math.Max(0, top - 1));
            var value = bestValues[k];
            var index = list.IndexOf(value);
            if (index >= 0) list.Move(index, to);
            else list.Insert(to, value);
            list.Marks[value] |= bit;
        }
    }
}

/// <summary>Beta sampling through two Gamma draws (Marsaglia-Tsang; shapes here are always at least 1).</summary>
internal static class Beta
{
    public static double Sample(Random random, double a, double b)
    {
        var x = Gamma(random, a);
        var y = Gamma(random, b);
        return x / (x + y);
    }

    private static double Gamma(Random random, double shape)
    {
        var d = shape - 1.0 / 3.0;
        var c = 1.0 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Normal(random);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            var u = random.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x) return d * v;
            if (Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    private static double Normal(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
