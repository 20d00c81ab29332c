using System.ComponentModel.DataAnnotations;

namespace RecSys.Events;

/// <summary>The event log's key of the <c>Stores</c> section. The database is <c>ConnectionStrings:Postgres</c>.</summary>
public sealed class EventLogOptions
{
    public const string SectionName = "Stores";

    /// <summary><c>none</c> (the default: events update the online store only) or <c>postgres</c> (every applied event is also appended to the event log the trainer reads).</summary>
    [Required, RegularExpression("^(none|postgres)$", ErrorMessage = "Stores:EventLog must be 'none' or 'postgres'.")]
    public string EventLog { get; set; } = "none";
}
