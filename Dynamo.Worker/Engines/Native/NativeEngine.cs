namespace Dynamo.Worker.Engines.Native;

/// <summary>Sizing of an engine context; zero means the engine's default.</summary>
public sealed record NativeEngineOptions
{
    /// <summary>Tokens per step across all sequences (scratch is sized for this); 0 = 512.</summary>
    public int MaxBatchTokens { get; init; }

    /// <summary>Positions per sequence; 0 = the model's trained context length.</summary>
    public int MaxContext { get; init; }

    /// <summary>Worker threads including the caller; 0 = all hardware threads.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Microseconds (0..100000) a thread waiting inside a step spins before it parks; null = the
    /// engine's default (50). Between steps the threads are parked whatever this is.
    /// </summary>
    public int? SpinMicroseconds { get; init; }
}

/// <summary>
/// Runs forward steps of a model over a KV pool. Not thread-safe: one step at a time
/// (the engine parallelises each step internally over its own thread pool).
/// </summary>
public sealed class NativeEngine : IDisposable
{
    private readonly SafeContextHandle _handle;

    private NativeEngine(SafeContextHandle handle, NativeModel model, NativeKvPool pool, int maxBatchTokens, int maxContext)
    {
        _handle = handle;
        Model = model;
        Pool = pool;
        MaxBatchTokens = maxBatchTokens;
        MaxContext = maxContext;
    }

    public NativeModel Model { get; }

    public NativeKvPool Pool { get; }

    public int MaxBatchTokens { get; }

    public int MaxContext { get; }

    public int Threads => NativeMethods.dyn_context_threads(_handle);

    public static unsafe NativeEngine Create(NativeModel model, NativeKvPool pool, NativeEngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pool);
        options ??= new NativeEngineOptions();
        var parameters = new DynContextParams
        {
            MaxBatchTokens = options.MaxBatchTokens,
            MaxContext = options.MaxContext,
            Threads = options.Threads,
        };
        NativeMethods.dyn_context_create(model.Handle, pool.Handle, &parameters, out var handle).ThrowIfFailed();
        handle.KeepAlive(model.Handle, pool.Handle);
        if (options.SpinMicroseconds is { } spin)
        {
            var status = NativeMethods.dyn_context_set_spin(handle, spin);
            if (status != NativeStatus.Ok)
            {
                // The message is read (thread-local) before the context is freed.
                try
                {
                    status.ThrowIfFailed();
                }
                finally
                {
                    handle.Dispose();
                }
            }
        }

        var maxBatch = options.MaxBatchTokens == 0 ? 512 : options.MaxBatchTokens;
        var maxContext = options.MaxContext == 0 ? model.Info.TrainedContextLength : options.MaxContext;
        return new NativeEngine(handle, model, pool, maxBatch, maxContext);
    }

    public void SetThreads(int threads) => NativeMethods.dyn_context_set_threads(_handle, threads).ThrowIfFailed();

    /// <summary>Microseconds a waiting thread spins inside a step before it parks.</summary>
    public int SpinMicroseconds => NativeMethods.dyn_context_spin(_handle);

    /// <summary>Pool threads (not counting the caller) asleep right now: all of them shortly after a step, however long the spin.</summary>
    public int ParkedThreads => NativeMethods.dyn_context_parked_threads(_handle);

    /// <summary>Sets <see cref="SpinMicroseconds"/> (0..100000; 0 parks at once).</summary>
    public void SetSpinMicroseconds(int microseconds) => NativeMethods.dyn_context_set_spin(_handle, microseconds).ThrowIfFailed();

    /// <summary>
    /// Runs one step. K/V of every token is written into its sequence's blocks; <paramref name="logits"/>
    /// receives <see cref="NativeBatch.LogitsRows"/> rows of <c>VocabSize</c> floats in sequence order.
    /// </summary>
    public void Step(NativeBatch batch, Span<float> logits)
    {
        ArgumentNullException.ThrowIfNull(batch);
        batch.Invoke(_handle, logits).ThrowIfFailed();
    }

    public void Dispose() => _handle.Dispose();
}
