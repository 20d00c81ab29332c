using System.Net;
using System.Text.Json;

namespace RecSys.Tests.Integration;

public class ApiTests(RecSysFactory factory) : IClassFixture<RecSysFactory>
{
    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Recommendations_have_the_documented_shape()
    {
        var client = await factory.ReadyClientAsync();

        using var response = await client.GetAsync(new Uri("/recommendations?userId=u_3&count=7&device=mobile&explain=true", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await JsonAsync(response);
        Assert.Equal("u_3", body.GetProperty("userId").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("requestId").GetString()));
        Assert.Equal(response.Headers.GetValues("X-Request-Id").Single(), body.GetProperty("requestId").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("modelVersion").GetString()));
        var items = body.GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(7, items.Length);
        Assert.Equal(7, items.Select(i => i.GetProperty("itemId").GetString()).Distinct().Count());
        foreach (var (item, rank) in items.Select((x, i) => (x, i + 1)))
        {
            Assert.Equal(rank, item.GetProperty("rank").GetInt32());
            Assert.StartsWith("i_", item.GetProperty("itemId").GetString(), StringComparison.Ordinal);
            Assert.False(string.IsNullOrEmpty(item.GetProperty("title").GetString()));
            Assert.False(string.IsNullOrEmpty(item.GetProperty("category").GetString()));
            Assert.StartsWith("https://", item.GetProperty("thumbnailUrl").GetString(), StringComparison.Ordinal);
            Assert.Contains(item.GetProperty("source").GetString(), new[] { "ann", "item2item", "social", "trending", "fresh", "popular" });
            Assert.True(item.GetProperty("explanation").GetProperty("sources").GetArrayLength() >= 1);
        }
        var timings = body.GetProperty("timings");
        foreach (var stage in new[] { "userState", "candidates", "features", "ranking", "reRanking", "total" })
        {
            Assert.True(timings.GetProperty(stage).GetDouble() >= 0, stage);
        }
        Assert.Equal(0, body.GetProperty("degraded").GetArrayLength());
    }

    [Fact]
    public async Task Explanations_are_absent_unless_asked_for()
    {
        var client = await factory.ReadyClientAsync();
        var body = await JsonAsync(await client.GetAsync(new Uri("/recommendations?userId=u_3&count=3", UriKind.Relative)));
        Assert.All(body.GetProperty("items").EnumerateArray(), i => Assert.False(i.TryGetProperty("explanation", out _)));
    }

    [Theory]
    [InlineData("/recommendations", "userId")]
    [InlineData("/recommendations?userId=u_1&count=0", "count")]
    [InlineData("/recommendations?userId=u_1&count=101", "count")]
    [InlineData("/recommendations?userId=u_1&count=ten", "count")]
    [InlineData("/recommendations?userId=u_1&device=fridge", "device")]
    [InlineData("/recommendations?userId=u_1&region=u5", "region")]
    [InlineData("/recommendations?userId=u_1&explain=maybe", "explain")]
    public async Task Invalid_input_is_a_400_problem_naming_the_field(string url, string field)
    {
        var client = await factory.ReadyClientAsync();

        using var response = await client.GetAsync(new Uri(url, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await JsonAsync(response);
        Assert.Equal(400, body.GetProperty("status").GetInt32());
        Assert.True(body.GetProperty("errors").TryGetProperty(field, out var messages), $"no error for {field}: {body}");
        Assert.Contains(field, messages[0].GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(body.GetProperty("requestId").GetString()));
    }

    [Fact]
    public async Task An_unknown_user_gets_a_cold_start_list_not_404()
    {
        var client = await factory.ReadyClientAsync();

        using var response = await client.GetAsync(new Uri("/recommendations?userId=brand-new-user&language=de&count=5", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await JsonAsync(response);
        Assert.True(body.GetProperty("coldStart").GetBoolean());
        Assert.Equal(5, body.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Items_are_served_by_id_and_unknown_ids_are_404_problems()
    {
        var client = await factory.ReadyClientAsync();

        var item = await JsonAsync(await client.GetAsync(new Uri("/items/i_12", UriKind.Relative)));
        Assert.Equal("i_12", item.GetProperty("itemId").GetString());
        Assert.StartsWith("u_", item.GetProperty("authorId").GetString(), StringComparison.Ordinal);

        using var missing = await client.GetAsync(new Uri("/items/i_999999", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Health_reports_live_and_ready_with_each_module()
    {
        var client = await factory.ReadyClientAsync();

        using var live = await client.GetAsync(new Uri("/health/live", UriKind.Relative));
        using var ready = await client.GetAsync(new Uri("/health/ready", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var checks = (await JsonAsync(ready)).GetProperty("checks");
        foreach (var module in new[] { "catalog", "embeddings", "online-store" })
        {
            Assert.Equal("Healthy", checks.GetProperty(module).GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task Swagger_lists_the_endpoints_with_their_parameters()
    {
        var client = await factory.ReadyClientAsync();

        var doc = await JsonAsync(await client.GetAsync(new Uri("/swagger/v1/swagger.json", UriKind.Relative)));

        var paths = doc.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/recommendations", out var recommendations));
        Assert.True(paths.TryGetProperty("/items/{id}", out _));
        var parameters = recommendations.GetProperty("get").GetProperty("parameters").EnumerateArray().ToArray();
        var names = parameters.Select(p => p.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(new[] { "userId", "count", "device", "region", "language", "explain", "variant", "interests", "hour" }, names);
        Assert.All(parameters, p => Assert.False(string.IsNullOrEmpty(p.GetProperty("description").GetString())));
        Assert.True(recommendations.GetProperty("get").GetProperty("responses").TryGetProperty("400", out _));
        // Response schemas carry documented examples and do not claim non-null fields are nullable.
        var schema = doc.GetProperty("components").GetProperty("schemas").GetProperty("RecommendedItemResponse");
        Assert.Equal("i_91396", schema.GetProperty("properties").GetProperty("itemId").GetProperty("example").GetString());
        Assert.False(schema.GetProperty("properties").GetProperty("itemId").TryGetProperty("nullable", out _));
        var required = schema.GetProperty("required").EnumerateArray().Select(r => r.GetString()).ToArray();
        Assert.Contains("itemId", required);
        Assert.DoesNotContain("explanation", required); // only with explain=true
    }

    [Fact]
    public async Task A_caller_request_id_is_kept()
    {
        var client = await factory.ReadyClientAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/recommendations?userId=u_1&count=1", UriKind.Relative));
        request.Headers.Add("X-Request-Id", "gateway-123");

        using var response = await client.SendAsync(request);

        Assert.Equal("gateway-123", (await JsonAsync(response)).GetProperty("requestId").GetString());
    }
}
