using SharpGpt.Cli;

return SharpGptCommandLine.Run(args);
