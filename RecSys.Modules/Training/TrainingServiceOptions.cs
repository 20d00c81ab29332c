namespace RecSys.Training;

/// <summary>Options of the <c>Training</c> section: what the service itself trains.</summary>
public sealed class TrainingServiceOptions
{
    public const string SectionName = "Training";

    /// <summary>
    /// When the models folder holds no model (no <c>current</c>, no <c>manifest.json</c>) and the demo world is on, train
    /// the demo models in the background at start-up (readiness waits for it), then load them.
    /// </summary>
    public bool TrainOnFirstRun { get; set; } = true;
}
