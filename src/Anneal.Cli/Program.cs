using Anneal.Cli;

return AnnealCli.Run(args);
