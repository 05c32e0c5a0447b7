using System.Threading.Channels;

namespace Dynamo.Worker.Scheduling;

/// <summary>A request's state inside the scheduler. Only the loop touches it, except <see cref="Cancel"/>.</summary>
internal sealed class SchedulerSequence
{
    /// <summary>Priority (lower first), then arrival (the id grows with arrival), so ties are first come, first served.</summary>
    public static readonly IComparer<SchedulerSequence> ByPriority = Comparer<SchedulerSequence>.Create(static (a, b) =>
    {
        var byPriority = a.Request.Priority.CompareTo(b.Request.Priority);
        return byPriority != 0 ? byPriority : a.Id.CompareTo(b.Id);
    });

    private volatile bool _cancelled;
    private IReadOnlySet<int>? _endTokens;

    public SchedulerSequence(long id, SchedulerRequest request)
    {
        Id = id;
        Request = request;
        Prompt = request.PromptTokens;

        // Capacity max_tokens + 1 (the + 1 is slack): the loop never has to wait on a slow reader, and the
        // channel is still bounded by the request's own length.
        Output = Channel.CreateBounded<SchedulerOutput>(new BoundedChannelOptions(request.MaxTokens + 1)
        {
            SingleReader = true,
            SingleWriter = true,
        });
    }

    public long Id { get; }

    public SchedulerRequest Request { get; }

    public Channel<SchedulerOutput> Output { get; }

    /// <summary>The tokens to prefill: the request's prompt, or after a preemption the prompt plus all generated tokens.</summary>
    public int[] Prompt { get; private set; }

    /// <summary>Tokens whose K/V exist (cached prefix included).</summary>
    public int Computed { get; set; }

    public List<int> Generated { get; } = [];

    /// <summary>Cached prompt tokens at the first admission (what the client is told); -1 before it.</summary>
    public int CachedTokens { get; set; } = -1;

    public bool IsPrefilling => Computed < Prompt.Length;

    /// <summary>The K/V of a sequence preempted by swap, until it is swapped back in; <see cref="Computed"/> stays as it was.</summary>
    public KvCache.KvSwappedSequence? Swapped { get; set; }

    /// <summary>The last sampled token: its K/V is computed in the next decode step.</summary>
    public int PendingToken => Generated[^1];

    public bool IsCancelled => _cancelled;

    /// <summary>Every token that would end this request (stop ids, EOS, end-of-turn); masked while under min_tokens.</summary>
    public IReadOnlySet<int> EndTokens => _endTokens ??= BuildEndTokens(Request);

    public bool IsEndToken(int token) =>
        token == Request.EosTokenId
        || (Request.EndOfGenerationIds?.Contains(token) ?? false)
        || (Request.StopTokenIds?.Contains(token) ?? false);

    public CancellationTokenRegistration Registration { get; set; }

    public SchedulerUsage Usage =>
        new(Request.PromptTokens.Length, Generated.Count, Math.Max(0, CachedTokens));

    public void Cancel() => _cancelled = true;

    /// <summary>Recompute preemption: the KV is gone, so everything known so far becomes the prompt to prefill again.</summary>
    public void ResetForRecompute()
    {
        Prompt = [.. Request.PromptTokens, .. Generated];
        Computed = 0;
    }

    private static HashSet<int> BuildEndTokens(SchedulerRequest request)
    {
        var tokens = new HashSet<int>(request.StopTokenIds ?? []);
        if (request.EndOfGenerationIds is not null)
        {
            tokens.UnionWith(request.EndOfGenerationIds);
        }

        if (request.EosTokenId is { } eos)
        {
            tokens.Add(eos);
        }

        return tokens;
    }

    public void Complete(Exception? error = null)
    {
        Registration.Dispose();
        Output.Writer.TryComplete(error);
    }
}
