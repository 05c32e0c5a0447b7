using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Dynamo.Admin.Tests.Infrastructure;

/// <summary>
/// The SignalR JSON hub protocol spoken by hand over a WebSocket (the .NET client package is not available here):
/// negotiate, handshake, then records separated by 0x1E.
/// </summary>
public sealed class SignalRJsonClient : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';

    private readonly ClientWebSocket _socket = new();
    private readonly StringBuilder _pending = new();
    private readonly Queue<JsonElement> _messages = new();

    private SignalRJsonClient()
    {
    }

    public static async Task<SignalRJsonClient> ConnectAsync(Uri baseUrl, string hubPath, CookieContainer cookies, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = baseUrl };
        using var negotiate = await http.PostAsync($"{hubPath}/negotiate?negotiateVersion=1", null, cancellationToken);
        negotiate.EnsureSuccessStatusCode();
        var body = await negotiate.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        var token = body.GetProperty("connectionToken").GetString()!;

        var client = new SignalRJsonClient();
        client._socket.Options.Cookies = cookies;
        var ws = new UriBuilder(new Uri(baseUrl, hubPath)) { Scheme = "ws", Query = "id=" + Uri.EscapeDataString(token) }.Uri;
        await client._socket.ConnectAsync(ws, cancellationToken);
        await client.SendAsync("{\"protocol\":\"json\",\"version\":1}", cancellationToken);
        var handshake = await client.ReceiveAsync(cancellationToken);
        if (handshake.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"Handshake refused: {error}");
        }

        return client;
    }

    public Task SendAsync(string json, CancellationToken cancellationToken) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(json + RecordSeparator), WebSocketMessageType.Text, true, cancellationToken);

    /// <summary>The next invocation of <paramref name="target"/> (pings and other messages are skipped); its first argument.</summary>
    public async Task<JsonElement> ReceiveInvocationAsync(string target, CancellationToken cancellationToken)
    {
        while (true)
        {
            var message = await ReceiveAsync(cancellationToken);
            if (message.TryGetProperty("type", out var type) && type.GetInt32() == 1 && message.GetProperty("target").GetString() == target)
            {
                return message.GetProperty("arguments")[0];
            }

            if (message.TryGetProperty("type", out type) && type.GetInt32() == 7)
            {
                throw new InvalidOperationException($"The hub closed the connection: {message}");
            }
        }
    }

    private async Task<JsonElement> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        while (_messages.Count == 0)
        {
            var result = await _socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException("The hub closed the WebSocket.");
            }

            _pending.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
            var text = _pending.ToString();
            var last = text.LastIndexOf(RecordSeparator);
            if (last < 0)
            {
                continue;
            }

            foreach (var record in text[..last].Split(RecordSeparator))
            {
                _messages.Enqueue(JsonDocument.Parse(record).RootElement.Clone());
            }

            _pending.Clear().Append(text[(last + 1)..]);
        }

        return _messages.Dequeue();
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            }
            catch (WebSocketException)
            {
            }
        }

        _socket.Dispose();
    }
}
