using Microsoft.Extensions.Options;

namespace RecSys.Demo;

/// <summary>
/// The service's demo world, generated once from the <c>Demo</c> options and shared: the seeder loads it into the
/// stores and the first-run trainer trains on it, so a first start generates it once, not twice. Each user calls
/// <see cref="Release"/> when done; the source then drops its reference (the world is large), and a later
/// <see cref="GetAsync"/> would generate it again.
/// </summary>
public sealed class DemoWorldSource(IOptions<DemoOptions> options)
{
    private readonly Lock _gate = new();
    private Task<DemoWorld>? _world;
    private int _generated;

    /// <summary>How many times this source generated a world (1 on a normal start).</summary>
    public int Generated => Volatile.Read(ref _generated);

    /// <summary>The world, generating it (on the thread pool, reporting to <paramref name="progress"/>) if no caller has yet.</summary>
    public Task<DemoWorld> GetAsync(IProgress<string>? progress, CancellationToken cancellationToken)
    {
        Task<DemoWorld> world;
        lock (_gate)
        {
            world = _world ??= Task.Run(() =>
            {
                Interlocked.Increment(ref _generated);
                return DemoWorldGenerator.Generate(options.Value, progress);
            }, CancellationToken.None);
        }
        return world.WaitAsync(cancellationToken);
    }

    /// <summary>Drops the source's reference to the world; callers that hold it keep it.</summary>
    public void Release()
    {
        lock (_gate) _world = null;
    }
}
