using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using RecSys.Events;
using RecSys.Tests.Integration;

namespace RecSys.Tests.Stores;

/// <summary>With Stores:EventLog=postgres, events accepted over HTTP end up in the PostgreSQL event log the trainer reads.</summary>
public sealed class EventLogWiringTests
{
    [Fact]
    public async Task Events_posted_over_http_are_appended_to_the_postgres_event_log_once()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var factory = new RecSysFactory().WithWebHostBuilder(b =>
        {
            b.UseSetting("Stores:EventLog", "postgres");
            b.UseSetting("ConnectionStrings:Postgres", db.ConnectionString);
        });
        var client = await factory.ReadyClientAsync();
        var eventId = Guid.NewGuid().ToString();
        var at = DateTimeOffset.UtcNow.AddMinutes(-1);
        var row = EventsApiTests.Row(eventId, "u_7", "i_42", "click", at: at);

        using (var first = await client.PostAsJsonAsync("/events", new { events = new[] { row } })) Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        using (var again = await client.PostAsJsonAsync("/events", new { events = new[] { row } })) Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);

        var log = factory.Services.GetRequiredService<IEventLog>();
        var logged = new List<UserEvent>();
        await EventsApiTests.EventuallyAsync(async () =>
        {
            logged.Clear();
            await foreach (var e in log.ReadAsync(at.AddMinutes(-1), at.AddMinutes(1), default)) logged.Add(e);
            return logged.Count > 0;
        }, "the click to reach the event log");
        await Task.Delay(200); // a second copy, if the re-send were not idempotent, would arrive right behind the first
        logged.Clear();
        await foreach (var e in log.ReadAsync(at.AddMinutes(-1), at.AddMinutes(1), default)) logged.Add(e);

        var stored = Assert.Single(logged);
        Assert.Equal(eventId, stored.EventId);
        Assert.Equal(("u_7", "i_42", EventType.Click), (stored.UserId, stored.ItemId, stored.Type));
    }
}
