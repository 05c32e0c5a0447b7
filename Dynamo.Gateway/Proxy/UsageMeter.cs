using System.Buffers;
using System.Text.Json;

namespace Dynamo.Gateway.Proxy;

/// <summary>
/// Watches a response body as it is forwarded and works out the tokens to charge: <c>usage.total_tokens</c> of a JSON body,
/// or of the streamed usage chunk (<c>stream_options.include_usage</c>); failing that, one token per streamed chunk.
/// </summary>
internal sealed class UsageMeter(bool streamed)
{
    /// <summary>Bytes kept of a JSON body or of one SSE line; usage sits in small objects, bigger bodies are not metered beyond this.</summary>
    private const int MaxBuffered = 1024 * 1024;

    private static ReadOnlySpan<byte> UsageProperty => "\"usage\""u8;

    private readonly ArrayBufferWriter<byte> _buffer = new(streamed ? 512 : 4096);
    private bool _overflowed;
    private long _reported = -1;
    private long _chunks;

    public void Observe(ReadOnlySpan<byte> data)
    {
        if (!streamed)
        {
            Append(data);
            return;
        }

        while (!data.IsEmpty)
        {
            var newline = data.IndexOf((byte)'\n');
            if (newline < 0)
            {
                Append(data);
                return;
            }

            if (_buffer.WrittenCount == 0)
            {
                OnLine(data[..newline]);
            }
            else
            {
                Append(data[..newline]);
                if (!_overflowed)
                {
                    OnLine(_buffer.WrittenSpan);
                }

                _buffer.ResetWrittenCount();
                _overflowed = false;
            }

            data = data[(newline + 1)..];
        }
    }

    /// <summary>Tokens to charge once the body has ended.</summary>
    public long Complete()
    {
        if (!streamed && !_overflowed && _buffer.WrittenCount > 0)
        {
            _reported = ReadUsage(_buffer.WrittenSpan);
        }

        return _reported >= 0 ? _reported : _chunks;
    }

    private void OnLine(ReadOnlySpan<byte> line)
    {
        if (!line.StartsWith("data:"u8))
        {
            return;
        }

        var payload = line[5..].Trim((byte)' ').TrimEnd((byte)'\r');
        if (payload.IsEmpty || payload.SequenceEqual("[DONE]"u8))
        {
            return;
        }

        _chunks++;
        if (payload.IndexOf(UsageProperty) >= 0 && ReadUsage(payload) is var total and >= 0)
        {
            _reported = total;
        }
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_overflowed || _buffer.WrittenCount + data.Length > MaxBuffered)
        {
            _overflowed = true;
            return;
        }

        _buffer.Write(data);
    }

    /// <summary><c>usage.total_tokens</c> (or prompt + completion) of a JSON object, or -1.</summary>
    private static long ReadUsage(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object ||
                !document.RootElement.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object)
            {
                return -1;
            }

            if (usage.TryGetProperty("total_tokens", out var total) && total.TryGetInt64(out var value))
            {
                return value;
            }

            var prompt = usage.TryGetProperty("prompt_tokens", out var p) && p.TryGetInt64(out var pv) ? pv : 0;
            var completion = usage.TryGetProperty("completion_tokens", out var c) && c.TryGetInt64(out var cv) ? cv : 0;
            return prompt + completion;
        }
        catch (JsonException)
        {
            return -1;
        }
    }
}
