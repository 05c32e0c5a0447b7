using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Dynamo.Router.Api;
using Dynamo.Router.Routing;
using Dynamo.Router.Workers;
using Dynamo.Runtime.Generation;

namespace Dynamo.Router.Generation;

/// <summary>
/// The worker requests of one client request: one per choice, all started (response headers received) before the
/// client hears anything, so a refusal still becomes a proper HTTP status. Their streams are then merged, in
/// arrival order, into one sequence of <see cref="ChoiceUpdate"/>s. Disposing cancels every worker request.
/// </summary>
internal sealed class GenerationRun : IAsyncDisposable
{
    private readonly WorkerDispatch[] _streams;
    private readonly CancellationTokenSource _cancel;
    private readonly WorkerDispatcher _dispatcher;
    private readonly Migration _migration;

    private GenerationRun(
        GenerationPlan plan, IReadOnlyList<ChoiceDecoder> decoders, WorkerDispatch[] streams, CancellationTokenSource cancel, WorkerDispatcher dispatcher, Migration migration)
    {
        Plan = plan;
        Decoders = decoders;
        _streams = streams;
        _cancel = cancel;
        _dispatcher = dispatcher;
        _migration = migration;
    }

    /// <summary>How often a choice may move to another worker, and who hears about each move (the frontend metric).</summary>
    public sealed record Migration(int Limit, Action OnMigrated);

    public GenerationPlan Plan { get; }

    public IReadOnlyList<ChoiceDecoder> Decoders { get; }

    /// <summary>Where each choice was routed and why (for the response header and the trace).</summary>
    public IEnumerable<RoutingDecision> Decisions => _streams.Select(s => s.Decision);

    /// <exception cref="OpenAiException">No worker could take a choice (503 / 429 / the worker's 400).</exception>
    public static async Task<GenerationRun> StartAsync(
        GenerationPlan plan, IReadOnlyList<ChoiceDecoder> decoders, WorkerDispatcher dispatcher, Migration migration, CancellationToken cancellationToken)
    {
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var started = new WorkerDispatch[plan.ChoiceCount];
        var tasks = new Task<WorkerDispatch>[plan.ChoiceCount];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = dispatcher.StartAsync(plan.WorkerRequest(i), plan.Routing, cancel.Token);
        }

        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch
        {
            await cancel.CancelAsync().ConfigureAwait(false);
            foreach (var task in tasks)
            {
                if (task.IsCompletedSuccessfully)
                {
                    task.Result.Dispose();
                }
            }

            cancel.Dispose();

            // A client that left cancels every dispatch: nothing faulted, and the cancellation is the outcome.
            if (tasks.FirstOrDefault(t => t.IsFaulted) is not { } failed)
            {
                throw;
            }

            // The first failure is the one the client hears about (they are alike: a pool-wide condition).
            throw failed.Exception!.InnerException!;
        }

        for (var i = 0; i < tasks.Length; i++)
        {
            started[i] = tasks[i].Result;
        }

        return new GenerationRun(plan, decoders, started, cancel, dispatcher, migration);
    }

    /// <summary>Every choice's updates as they arrive; ends when each choice has finished.</summary>
    /// <exception cref="OpenAiException">A worker failed mid-stream.</exception>
    public async IAsyncEnumerable<ChoiceUpdate> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cancel.Token);
        if (_streams.Length == 1)
        {
            // One choice (the common case): no pump task, no channel hop per token.
            await foreach (var update in PumpAsync(0, linked.Token).ConfigureAwait(false))
            {
                yield return update;
            }

            yield break;
        }

        var channel = Channel.CreateBounded<ChoiceUpdate>(new BoundedChannelOptions(64 * _streams.Length)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        var pumps = new Task[_streams.Length];
        for (var i = 0; i < pumps.Length; i++)
        {
            var choice = i;
            pumps[i] = Task.Run(async () =>
            {
                await foreach (var update in PumpAsync(choice, linked.Token).ConfigureAwait(false))
                {
                    await channel.Writer.WriteAsync(update, linked.Token).ConfigureAwait(false);
                }
            }, linked.Token);
        }

        _ = Task.WhenAll(pumps).ContinueWith(
            t => channel.Writer.TryComplete(t.Exception?.InnerExceptions.FirstOrDefault(e => e is not OperationCanceledException) ?? t.Exception?.InnerException),
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            await foreach (var update in channel.Reader.ReadAllAsync(linked.Token).ConfigureAwait(false))
            {
                yield return update;
            }
        }
        finally
        {
            await linked.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One choice's tokens. When its worker stream breaks (connection lost, an error event, an early end) and the
    /// migration limit allows, the prompt plus the tokens so far go to another worker and its tokens continue the
    /// same decoder, so the client sees one stream without a gap or a repeated token.
    /// </summary>
    private async IAsyncEnumerable<ChoiceUpdate> PumpAsync(int choice, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var decoder = Decoders[choice];
        var generated = new List<int>();
        var migrations = 0;
        try
        {
            while (true)
            {
                var dispatch = _streams[choice];
                Exception? broken = null;
                var events = dispatch.Stream.ReadAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
                try
                {
                    while (true)
                    {
                        GenerateEvent e;
                        try
                        {
                            if (!await events.MoveNextAsync().ConfigureAwait(false))
                            {
                                break;
                            }

                            e = events.Current;
                        }
                        catch (Exception ex) when (IsBreak(ex) && !cancellationToken.IsCancellationRequested)
                        {
                            broken = ex;
                            break;
                        }

                        dispatch.TokenArrived();
                        generated.Add(e.TokenId);
                        var update = decoder.Add(e);
                        yield return update;
                        if (update.FinishReason is not null)
                        {
                            yield break;
                        }
                    }
                }
                finally
                {
                    await events.DisposeAsync().ConfigureAwait(false);
                }

                broken ??= new WorkerRequestException(HttpStatusCode.BadGateway, null,
                    new ApiError($"The worker's stream for choice {choice} ended before the generation finished.", "server_error", null, null));
                if (migrations >= _migration.Limit)
                {
                    throw broken;
                }

                migrations++;
                _migration.OnMigrated();
                dispatch.Dispose();
                _streams[choice] = await _dispatcher.StartAsync(
                    Plan.MigratedRequest(choice, generated), Plan.Routing, cancellationToken, avoid: dispatch.Target.WorkerId).ConfigureAwait(false);
            }
        }
        finally
        {
            // A stop string ends the choice early: dropping the stream aborts the worker request, freeing its blocks.
            _streams[choice].Dispose();
        }
    }

    private static bool IsBreak(Exception ex) => ex is WorkerRequestException or HttpRequestException or IOException;

    public async ValueTask DisposeAsync()
    {
        await _cancel.CancelAsync().ConfigureAwait(false);
        foreach (var dispatch in _streams)
        {
            dispatch.Dispose();
        }

        _cancel.Dispose();
    }
}
