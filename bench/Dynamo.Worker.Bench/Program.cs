using Dynamo.Worker.Bench;

// Scheduler overhead with the mocker (no simulated sleep) and aggregate tokens/s of one native worker.
// Run: dotnet run -c Release --project bench/Dynamo.Worker.Bench [-- mocker|native]
var which = args.Length > 0 ? args[0] : "all";
Console.WriteLine($"{Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {LoadAverage()}");
Console.WriteLine();
if (which is "all" or "mocker")
{
    await SchedulerOverheadBench.RunAsync();
    Console.WriteLine();
}

if (which is "all" or "native")
{
    await NativeThroughputBench.RunAsync();
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
