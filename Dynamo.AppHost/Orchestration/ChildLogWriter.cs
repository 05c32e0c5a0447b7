namespace Dynamo.AppHost.Orchestration;

/// <summary>Writes children's output lines to the AppHost console, prefixed with the replica's name (and coloured on a terminal).</summary>
internal sealed class ChildLogWriter
{
    private static readonly ConsoleColor[] s_palette =
        [ConsoleColor.Cyan, ConsoleColor.Green, ConsoleColor.Magenta, ConsoleColor.Yellow, ConsoleColor.Blue, ConsoleColor.DarkCyan, ConsoleColor.DarkGreen, ConsoleColor.DarkYellow];

    private readonly Lock _gate = new();
    private readonly bool _colour;
    private readonly TextWriter _output;

    public ChildLogWriter()
    {
        _output = Console.Out;
        _colour = !Console.IsOutputRedirected;
    }

    /// <summary>Plain lines to <paramref name="output"/> (no colours).</summary>
    internal ChildLogWriter(TextWriter output)
    {
        _output = output;
    }

    /// <summary>Width the prefixes are padded to, so lines of different children stay aligned.</summary>
    public int PrefixWidth { get; set; } = 10;

    public static string Format(string source, string line, int width) => $"{source.PadRight(width)} | {line}";

    public void Write(string source, string line, bool isError)
    {
        lock (_gate)
        {
            if (_colour)
            {
                Console.ForegroundColor = isError ? ConsoleColor.Red : s_palette[(uint)StableHash(source) % s_palette.Length];
                _output.Write(source.PadRight(PrefixWidth));
                Console.ResetColor();
                _output.WriteLine($" | {line}");
            }
            else
            {
                _output.WriteLine(Format(source, line, PrefixWidth));
            }
        }
    }

    private static int StableHash(string s)
    {
        var hash = 17;
        foreach (var c in s)
        {
            hash = unchecked(hash * 31 + c);
        }

        return hash;
    }
}
