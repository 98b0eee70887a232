using Anneal.Cli;

JitProfile.Start(args);
return AnnealCli.Run(args);

/// <summary>The entry point; public so that the web tests' WebApplicationFactory can name this assembly.</summary>
public partial class Program;
