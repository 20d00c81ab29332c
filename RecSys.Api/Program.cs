using RecSys.Api.Cli;

// One executable: `serve` (the default) runs the service; other verbs are tools on the same modules.
return await Verbs.RunAsync(args);

/// <summary>The entry point, public so that the test host can start it.</summary>
public partial class Program;
