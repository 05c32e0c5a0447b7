using Dynamo.Planner.Bench;

// Planner tools. Run from the repository root:
//   dotnet run --project bench/Dynamo.Planner.Bench -- profile --engine mocker|native [--out PATH] [--speed-up X] [--kv-blocks N --block-size T]
//   dotnet run --project bench/Dynamo.Planner.Bench -- replay [--phase-seconds 40] [--base-rate 4] [--max-workers 4] [--speed-up 10] …
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
    Console.Error.WriteLine("              [--runs planner,fixed-same,fixed-max,fixed-N]");
    return 2;
}
