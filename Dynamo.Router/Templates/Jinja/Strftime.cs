using System.Globalization;
using System.Text;

namespace Dynamo.Router.Templates.Jinja;

/// <summary>Python's datetime.strftime in the C locale (glibc), for <c>strftime_now</c>; glibc's "-" flag drops padding.</summary>
internal static class Strftime
{
    public static string Format(DateTime time, string format)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }

            var noPad = format[i + 1] == '-' && i + 2 < format.Length;
            var directive = format[noPad ? i + 2 : i + 1];
            var text = Directive(time, directive);
            if (text is null)
            {
                throw new TemplateRenderException($"ValueError: unsupported strftime directive '%{(noPad ? "-" : "")}{directive}'");
            }

            sb.Append(noPad ? StripPadding(text) : text);
            i += noPad ? 2 : 1;
        }

        return sb.ToString();
    }

    private static string StripPadding(string text)
    {
        var trimmed = text.TrimStart('0', ' ');
        return trimmed.Length == 0 ? "0" : trimmed;
    }

    private static string? Directive(DateTime t, char c)
    {
        var inv = CultureInfo.InvariantCulture;
        return c switch
        {
            'a' => t.ToString("ddd", inv),
            'A' => t.ToString("dddd", inv),
            'b' or 'h' => t.ToString("MMM", inv),
            'B' => t.ToString("MMMM", inv),
            'd' => t.ToString("dd", inv),
            'e' => t.Day.ToString(inv).PadLeft(2),
            'H' => t.ToString("HH", inv),
            'I' => t.ToString("hh", inv),
            'j' => t.DayOfYear.ToString("000", inv),
            'm' => t.ToString("MM", inv),
            'M' => t.ToString("mm", inv),
            'p' => t.Hour < 12 ? "AM" : "PM",
            'S' => t.ToString("ss", inv),
            'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", inv),
            'y' => t.ToString("yy", inv),
            'Y' => t.Year.ToString(inv),
            'w' => ((int)t.DayOfWeek).ToString(inv),
            'u' => (t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek).ToString(inv),
            'D' => t.ToString("MM'/'dd'/'yy", inv),
            'F' => t.ToString("yyyy-MM-dd", inv),
            'T' or 'X' => t.ToString("HH:mm:ss", inv),
            'R' => t.ToString("HH:mm", inv),
            'x' => t.ToString("MM'/'dd'/'yy", inv),
            'c' => t.ToString("ddd MMM ", inv) + t.Day.ToString(inv).PadLeft(2) + t.ToString(" HH:mm:ss yyyy", inv),
            'z' or 'Z' => "",
            'n' => "\n",
            't' => "\t",
            '%' => "%",
            _ => null,
        };
    }
}
