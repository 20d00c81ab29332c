namespace RecSys.Retrieval.Hnsw;

/// <summary>
/// How the index compares vectors. Internally every metric is a distance (smaller is closer); searches report a score
/// (larger is closer): the inner product for <see cref="InnerProduct"/> and <see cref="Cosine"/>, the negated squared
/// distance for <see cref="L2"/>.
/// </summary>
internal enum HnswMetric
{
    /// <summary>Maximum inner product; distance = -dot(a, b).</summary>
    InnerProduct = 0,

    /// <summary>Cosine similarity: vectors (and queries) are normalised once on the way in, then inner product.</summary>
    Cosine = 1,

    /// <summary>Euclidean; distance = squared L2 norm of a - b.</summary>
    L2 = 2,
}

/// <summary>The graph's construction parameters, named as in Malkov &amp; Yashunin.</summary>
internal sealed record HnswParameters(int M = 16, int EfConstruction = 200, ulong Seed = 42)
{
    /// <summary>Links per node on level 0 (twice <see cref="M"/>, as the paper recommends).</summary>
    public int MaxM0 => M * 2;

    public void Validate()
    {
        if (M is < 2 or > 128) throw new ArgumentOutOfRangeException(nameof(M), M, "M must be from 2 to 128.");
        if (EfConstruction is < 1 or > 10_000) throw new ArgumentOutOfRangeException(nameof(EfConstruction), EfConstruction, "EfConstruction must be from 1 to 10000.");
    }
}
