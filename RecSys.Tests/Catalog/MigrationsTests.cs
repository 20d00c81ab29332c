using RecSys.Catalog;

namespace RecSys.Tests.Catalog;

public class MigrationsTests
{
    [Fact]
    public void The_build_embeds_every_migration_of_sql_in_order()
    {
        var root = AppContext.BaseDirectory;
        while (!Directory.Exists(Path.Combine(root, "sql")) || !File.Exists(Path.Combine(root, "RecSys.sln"))) root = Path.GetDirectoryName(root)!;
        var onDisk = Directory.GetFiles(Path.Combine(root, "sql"), "*.sql").Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToArray();

        Assert.NotEmpty(onDisk);
        Assert.Equal(onDisk, PostgresCatalog.Migrations.ToArray());
    }
}
