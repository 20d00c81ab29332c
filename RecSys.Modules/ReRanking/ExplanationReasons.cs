using System.Numerics.Tensors;
using RecSys.Catalog;
using RecSys.Retrieval;

namespace RecSys.ReRanking;

/// <summary>The human sentence of an explanation. Runs only when explanations are asked for.</summary>
public static class ExplanationReasons
{
    /// <summary>Items younger than this are "new".</summary>
    public static readonly TimeSpan NewFor = TimeSpan.FromHours(48);

    /// <summary>
    /// In order: pinned; from an author the user follows; found through friends; the most similar item of the user's
    /// recent history ("Because you liked X"); new in its category; popular in the user's region; popular.
    /// </summary>
    public static string Reason(Item item, CandidateSource sources, IReadOnlyList<RuleDescription> rules, int[] recentItems,
        SocialContext social, ItemEmbeddings? embeddings, ICatalog catalog, byte regionCode, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(recentItems);
        ArgumentNullException.ThrowIfNull(social);
        ArgumentNullException.ThrowIfNull(catalog);
        if (rules.Any(r => r.Name == "pins")) return "Featured";
        if (social.Follows(item.AuthorIndex)) return $"From {catalog.GetUser(item.AuthorIndex).Id}, whom you follow";
        if ((sources & CandidateSource.Social) != 0) return "Popular with people you know";
        if ((sources & (CandidateSource.Ann | CandidateSource.ItemToItem)) != 0 && recentItems.Length > 0 && embeddings is not null)
        {
            var best = -1;
            var bestSimilarity = float.NegativeInfinity;
            var vector = embeddings.Vector(item.Index);
            foreach (var recent in recentItems)
            {
                if ((uint)recent >= (uint)embeddings.Count) continue;
                var similarity = TensorPrimitives.CosineSimilarity(vector, embeddings.Vector(recent));
                if (similarity > bestSimilarity) { bestSimilarity = similarity; best = recent; }
            }
            if (best >= 0) return $"Because you liked \"{catalog.GetItem(best).Title}\"";
        }
        if ((sources & CandidateSource.Fresh) != 0 || now - item.CreatedAt < NewFor || rules.Any(r => r.Name == "explore"))
        {
            return $"New in {item.Category}";
        }
        if (regionCode != Locales.Unknown && Locales.RegionCode(item.Region) == regionCode) return "Popular in your region";
        return "Popular right now";
    }
}
