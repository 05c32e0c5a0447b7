using Dynamo.Worker.Bench;

// Scheduler overhead with the mocker (no simulated sleep), aggregate tokens/s of one native worker, and swap vs
// recompute preemption on the native engine.
// Run: dotnet run -c Release --project bench/Dynamo.Worker.Bench [-- mocker|native|preemption]
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
    Console.WriteLine();
}

if (which is "all" or "preemption")
{
    await PreemptionBench.RunAsync();
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
