using RecSys.Events;
using RecSys.Training;

namespace RecSys.Tests.Training;

public class DatasetReaderTests
{
    [Fact]
    public void Csv_interactions_keep_ids_assign_dense_indices_and_sort_by_time()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("interactions.csv",
            "user_id,item_id,timestamp,event_type,value\n" +
            "alice,movie-9,1700000100,click,0\n" +
            "bob,movie-3,2023-11-14T22:13:20Z,like,\n" +   // = 1700000000, so it sorts first
            "alice,movie-3,1700000100,dwell,12.5\n");
        var d = DatasetReaders.ReadCsv(path);

        Assert.Equal(2, d.UserCount);
        Assert.Equal(2, d.ItemCount);
        Assert.Equal(["bob", "alice"], d.Events.Select(e => d.UserIds[e.UserIndex]).Take(2));
        Assert.Equal(1_700_000_000, d.Events[0].UnixSeconds);
        Assert.Equal(EventType.Like, d.Events[0].Type);
        // Same-second events keep file order.
        Assert.Equal("movie-9", d.ItemIds[d.Events[1].ItemIndex]);
        Assert.Equal(EventType.Dwell, d.Events[2].Type);
        Assert.Equal(12.5f, d.Events[2].Value);
        Assert.True(d.TryGetItemIndex("movie-3", out var m3));
        Assert.Equal("movie-3", d.ItemIds[m3]);
    }

    [Fact]
    public void Csv_without_event_type_reads_clicks_and_columns_may_come_in_any_order()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("i.csv", "timestamp,item_id,user_id\n5,a,u1\n6,b,u2\n");
        var d = DatasetReaders.ReadCsv(path);
        Assert.All(d.Events, e => Assert.Equal(EventType.Click, e.Type));
        Assert.Equal(["u1", "u2"], d.UserIds);
        Assert.Equal(["a", "b"], d.ItemIds);
    }

    [Fact]
    public void Item_metadata_adds_items_without_events_and_quoted_titles()
    {
        using var dir = new TempDirectory();
        var items = dir.Write("items.csv", "item_id,title,category,author_id,language,region,tags\n" +
            "x,\"Hello, \"\"world\"\"\",news,u9,en,us,a|b\n" +
            "cold,Fresh,sports,u8,de,de,\n");
        var interactions = dir.Write("interactions.csv", "user_id,item_id,timestamp\nu1,x,10\n");
        var d = DatasetReaders.ReadCsv(interactions, items);

        Assert.Equal(2, d.ItemCount);
        Assert.True(d.TryGetItemIndex("cold", out var cold));
        Assert.Equal("sports", d.Items[cold].Category);
        Assert.True(d.TryGetItemIndex("x", out var x));
        Assert.Equal("Hello, \"world\"", d.Items[x].Title);
        Assert.Equal(["a", "b"], d.Items[x].Tags);
        Assert.True(d.HasItemContent);
    }

    [Theory]
    [InlineData("user_id,item_id,timestamp\nu1,i1,10\nu2,i2,yesterday\n", 3, "timestamp")]
    [InlineData("user_id,item_id,timestamp,event_type\nu1,i1,10,click\nu1,i2,11,purchase\n", 3, "purchase")]
    [InlineData("user_id,item_id,timestamp\nu1,i1,10\n\nu1,,12\n", 4, "item_id")]
    [InlineData("user_id,item_id,timestamp,value\nu1,i1,10,1\nu1,i2,11,NaN\n", 3, "value")]
    [InlineData("user_id,item_id,timestamp\nu1,\"i1,10\n", 2, "quoted")]
    [InlineData("user_id,item\nu1,i1\n", 1, "item_id")]
    public void A_malformed_row_fails_with_file_and_line(string content, int line, string mentions)
    {
        using var dir = new TempDirectory();
        var path = dir.Write("bad.csv", content);
        var ex = Assert.Throws<DatasetFormatException>(() => DatasetReaders.ReadCsv(path));
        Assert.Equal(path, ex.File);
        Assert.Equal(line, ex.Line);
        Assert.StartsWith($"{path}:{line}: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(mentions, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MovieLens_100k_format_reads_ratings_genres_and_users()
    {
        using var dir = new TempDirectory();
        dir.Write("u.data", "1\t10\t5\t881250949\n2\t20\t3\t881250950\n1\t20\t4\t881250948\n");
        var flags = string.Join('|', Enumerable.Range(0, 19).Select(g => g is 1 or 5 ? "1" : "0"));
        dir.Write("u.item", $"10|Heat (1995)|01-Jan-1995||http://x|{flags}\n20|Other (1990)|01-Jan-1990||http://y|{string.Join('|', Enumerable.Repeat("0", 19))}\n30|Unrated (1980)|||http://z|{string.Join('|', Enumerable.Repeat("0", 19))}\n");
        dir.Write("u.user", "1|24|M|technician|85711\n2|53|F|other|94043\n");
        var d = DatasetReaders.ReadMovieLens(dir.Path);

        Assert.Equal(3, d.Events.Length);
        Assert.Equal(3, d.ItemCount); // the unrated movie is in the catalog
        Assert.Equal(881250948, d.Events[0].UnixSeconds);
        Assert.Equal(4f, d.Events[0].Value);
        Assert.True(d.TryGetItemIndex("10", out var heat));
        Assert.Equal(["Action", "Comedy"], d.Items[heat].Tags);
        Assert.Equal("Action", d.Items[heat].Category);
        Assert.True(d.TryGetUserIndex("2", out var u2));
        Assert.Equal(53, d.Users[u2].Age);
    }

    [Fact]
    public void MovieLens_1m_and_latest_formats_read()
    {
        using (var dir = new TempDirectory())
        {
            dir.Write("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n");
            dir.Write("movies.dat", "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n661::James and the Giant Peach (1996)::Animation|Children's|Musical\n");
            dir.Write("users.dat", "1::F::1::10::48067\n");
            var d = DatasetReaders.ReadMovieLens(dir.Path);
            Assert.Equal(2, d.Events.Length);
            Assert.True(d.TryGetItemIndex("661", out var peach));
            Assert.Equal(3, d.Items[peach].Tags.Count);
        }
        using (var dir = new TempDirectory())
        {
            dir.Write("ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n");
            dir.Write("movies.csv", "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n3,\"American President, The (1995)\",Comedy|Drama|Romance\n");
            var d = DatasetReaders.ReadMovieLens(dir.Path);
            Assert.Equal(2, d.Events.Length);
            Assert.True(d.TryGetItemIndex("3", out var president));
            Assert.Equal("American President, The (1995)", d.Items[president].Title);
        }
    }

    [Fact]
    public void A_malformed_MovieLens_row_fails_with_file_and_line()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("u.data", "1\t10\t5\t881250949\n2\t20\tfive\t881250950\n");
        var ex = Assert.Throws<DatasetFormatException>(() => DatasetReaders.ReadMovieLens(dir.Path));
        Assert.Equal(path, ex.File);
        Assert.Equal(2, ex.Line);
    }

    [Fact]
    public async Task The_demo_world_reads_with_its_own_ids_and_the_csv_it_writes_reads_back_the_same()
    {
        var world = TestWorld.Small;
        var direct = DatasetReaders.FromDemoWorld(world);
        Assert.Equal(world.Items.Count, direct.ItemCount);
        Assert.Equal("i_5", direct.ItemIds[5]);
        Assert.Equal(world.Interactions.Length, direct.Events.Length);

        using var dir = new TempDirectory();
        await RecSys.Demo.DemoWorldFiles.WriteAsync(world, dir.Path, CancellationToken.None);
        var fromCsv = DatasetReaders.ReadCsv(Path.Combine(dir.Path, "interactions.csv"), Path.Combine(dir.Path, "items.csv"), Path.Combine(dir.Path, "users.csv"));
        Assert.Equal(direct.Events.Length, fromCsv.Events.Length);
        Assert.Equal(direct.ItemCount, fromCsv.ItemCount);
        for (var k = 0; k < direct.Events.Length; k += 97)
        {
            var a = direct.Events[k];
            var b = fromCsv.Events[k];
            Assert.Equal(direct.UserIds[a.UserIndex], fromCsv.UserIds[b.UserIndex]);
            Assert.Equal(direct.ItemIds[a.ItemIndex], fromCsv.ItemIds[b.ItemIndex]);
            Assert.Equal((a.Type, a.UnixSeconds), (b.Type, b.UnixSeconds));
        }
        Assert.Equal(direct.Items[17].Category, fromCsv.Items[17].Category);
    }
}
