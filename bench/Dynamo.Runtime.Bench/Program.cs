using Dynamo.Runtime.Bench;

// Bounded loops only: the whole run takes well under a minute on a laptop.
var results = new List<BenchRow>();
results.AddRange(HashingBench.Run());
results.AddRange(await NatsBench.RunAsync());
BenchRow.Print(results);
