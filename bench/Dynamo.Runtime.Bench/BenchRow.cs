using System.Globalization;

namespace Dynamo.Runtime.Bench;

internal sealed record BenchRow(string Benchmark, string Value, string Unit, string Notes = "")
{
    public static void Print(IReadOnlyList<BenchRow> rows)
    {
        var widths = new[]
        {
            Math.Max(9, rows.Max(r => r.Benchmark.Length)),
            Math.Max(5, rows.Max(r => r.Value.Length)),
            Math.Max(4, rows.Max(r => r.Unit.Length)),
            Math.Max(5, rows.Max(r => r.Notes.Length)),
        };
        Console.WriteLine();
        Console.WriteLine($"Dynamo.Runtime.Bench — {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        Line("Benchmark", "Value", "Unit", "Notes");
        Line(new string('-', widths[0]), new string('-', widths[1]), new string('-', widths[2]), new string('-', widths[3]));
        foreach (var row in rows)
        {
            Line(row.Benchmark, row.Value, row.Unit, row.Notes);
        }

        void Line(string a, string b, string c, string d) =>
            Console.WriteLine($"| {a.PadRight(widths[0])} | {b.PadLeft(widths[1])} | {c.PadRight(widths[2])} | {d.PadRight(widths[3])} |");
    }

    public static string F(double value, string format = "0.00") => value.ToString(format, CultureInfo.InvariantCulture);
}
