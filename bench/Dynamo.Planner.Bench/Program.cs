using Dynamo.Planner.Bench;

// Planner tools. Run from the repository root:
//   dotnet run --project bench/Dynamo.Planner.Bench -- profile --engine mocker|native [--out PATH] [--speed-up X] [--kv-blocks N --block-size T]
//   dotnet run --project bench/Dynamo.Planner.Bench -- replay [--phase-seconds 40] [--base-rate 4] [--max-workers 4] [--speed-up 10] …
//       [--scale-up warm --start-delay measured] (scale-ups resume pre-started, parked workers after the measured cold start)
//       [--phases 0.5:30,4:60 --arrivals uniform --runs planner] (a step: time from it to the first scale-up and to serving)
return args switch
{
    ["profile", .. var rest] => await ProfileCommand.RunAsync(rest),
    ["replay", .. var rest] => await ScalingReplay.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Dynamo.Planner.Bench profile --engine mocker|native [--out PATH] [--speed-up X] [--kv-blocks N --block-size T]");
    Console.Error.WriteLine("       Dynamo.Planner.Bench replay [--phase-seconds S] [--base-rate R] [--max-workers N] [--speed-up X] [--ttft-ms T] [--itl-ms I]");
    Console.Error.WriteLine("              [--kv-blocks N] [--token-scale K] [--output-scale O] [--queued-per-replica Q] [--profile PATH] [--configuration Release|Debug]");
    Console.Error.WriteLine("              [--runs planner,planner-warm,planner-cold,fixed-same,fixed-max,fixed-N] [--phases M:S,M:S,...] [--arrivals trace|uniform]");
    Console.Error.WriteLine("              [--scale-up cold|warm] [--warm-spares N] [--start-delay SECONDS|measured]");
    return 2;
}
