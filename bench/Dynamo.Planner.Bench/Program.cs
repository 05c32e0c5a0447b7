using Dynamo.Planner.Bench;

// Planner tools. Run from the repository root:
//   dotnet run --project bench/Dynamo.Planner.Bench -- profile --engine mocker|native [--out PATH] [--speed-up X]
return args switch
{
    ["profile", .. var rest] => await ProfileCommand.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Dynamo.Planner.Bench profile --engine mocker|native [--out PATH] [--speed-up X]");
    return 2;
}
