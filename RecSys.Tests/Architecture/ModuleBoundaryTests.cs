using System.Reflection;
using RecSys.Pipeline;

namespace RecSys.Tests.Architecture;

/// <summary>Modules may use each other's public contracts only, never another module's internal implementation types.</summary>
public class ModuleBoundaryTests
{
    /// <summary>The module of a type: the namespace segment after the root ("RecSys.Retrieval.Exact" -> "Retrieval").</summary>
    private static string? ModuleOf(Type type, string root)
    {
        var ns = type.Namespace;
        if (ns is null || !ns.StartsWith(root + ".", StringComparison.Ordinal)) return null;
        return ns[(root.Length + 1)..].Split('.')[0];
    }

    private static IEnumerable<Type> Expand(Type type)
    {
        if (type.HasElementType) return Expand(type.GetElementType()!);
        if (type.IsGenericType) return new[] { type.GetGenericTypeDefinition() }.Concat(type.GetGenericArguments().SelectMany(Expand));
        return [type];
    }

    /// <summary>Types another module's type depends on (constructor parameters, fields, properties, method signatures) that are not public.</summary>
    internal static List<string> Violations(IEnumerable<Type> types, string root)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var violations = new List<string>();
        foreach (var type in types)
        {
            var module = ModuleOf(type, root);
            if (module is null) continue;
            var used = type.GetConstructors(all).SelectMany(c => c.GetParameters()).Select(p => p.ParameterType)
                .Concat(type.GetFields(all).Select(f => f.FieldType))
                .Concat(type.GetProperties(all).Select(p => p.PropertyType))
                .Concat(type.GetMethods(all).SelectMany(m => m.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType)))
                .SelectMany(Expand)
                .Distinct();
            foreach (var dependency in used)
            {
                var other = ModuleOf(dependency, root);
                if (other is null || other == module) continue;
                if (!(dependency.IsPublic || dependency.IsNestedPublic)) violations.Add($"{type.FullName} ({module}) uses internal {dependency.FullName} ({other})");
            }
        }
        return violations;
    }

    [Fact]
    public void Modules_depend_on_each_other_only_through_public_contracts()
    {
        var violations = Violations(typeof(RecommendationPipeline).Assembly.GetTypes(), "RecSys");
        Assert.True(violations.Count == 0, string.Join(Environment.NewLine, violations));
    }

    [Fact]
    public void The_check_catches_a_module_reaching_into_another_modules_internals()
    {
        var violations = Violations([typeof(Fake.Alpha.Consumer)], "RecSys.Tests.Architecture.Fake");
        Assert.Single(violations);
        Assert.Contains("Fake.Beta.Hidden", violations[0], StringComparison.Ordinal);
    }
}
