// Two fake modules, one reaching into the other's internals: the boundary check must flag it.
namespace RecSys.Tests.Architecture.Fake.Beta
{
    internal sealed class Hidden;
}

namespace RecSys.Tests.Architecture.Fake.Alpha
{
    internal sealed class Consumer(Beta.Hidden hidden)
    {
        public override string ToString() => hidden.ToString()!;
    }
}
