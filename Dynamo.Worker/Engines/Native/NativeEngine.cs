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
    /// Microseconds (0..100000) a waiting pool thread spins with pause instructions; null = the
    /// engine's default (50). After a step returns that is all: the threads then park and an idle
    /// engine uses no CPU. 0 parks at once.
    /// </summary>
    public int? SpinMicroseconds { get; init; }

    /// <summary>
    /// Microseconds (0..10000000) a thread waiting between the parallel regions of one step keeps
    /// polling (yielding its core between polls) before it parks; null = the engine's default
    /// (4000). Waking a parked thread costs more than most regions take on a VM, so this is what
    /// lets a second thread pay off; it ends with the step. 0 = park after <see cref="SpinMicroseconds"/>.
    /// </summary>
    public int? StepSpinMicroseconds { get; init; }
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
            ThrowAndFreeOnFailure(NativeMethods.dyn_context_set_spin(handle, spin), handle);
        }

        if (options.StepSpinMicroseconds is { } stepSpin)
        {
            ThrowAndFreeOnFailure(NativeMethods.dyn_context_set_step_spin(handle, stepSpin), handle);
        }

        var maxBatch = options.MaxBatchTokens == 0 ? 512 : options.MaxBatchTokens;
        var maxContext = options.MaxContext == 0 ? model.Info.TrainedContextLength : options.MaxContext;
        return new NativeEngine(handle, model, pool, maxBatch, maxContext);
    }

    public void SetThreads(int threads) => NativeMethods.dyn_context_set_threads(_handle, threads).ThrowIfFailed();

    /// <summary>Microseconds a waiting thread spins with pause instructions (after a step: before it parks).</summary>
    public int SpinMicroseconds => NativeMethods.dyn_context_spin(_handle);

    /// <summary>Microseconds a thread waiting inside a step polls before it parks.</summary>
    public int StepSpinMicroseconds => NativeMethods.dyn_context_step_spin(_handle);

    /// <summary>Pool threads (not counting the caller) asleep right now: all of them shortly after a step, however long the spin.</summary>
    public int ParkedThreads => NativeMethods.dyn_context_parked_threads(_handle);

    /// <summary>Sets <see cref="SpinMicroseconds"/> (0..100000; 0 parks at once).</summary>
    public void SetSpinMicroseconds(int microseconds) => NativeMethods.dyn_context_set_spin(_handle, microseconds).ThrowIfFailed();

    /// <summary>Sets <see cref="StepSpinMicroseconds"/> (0..10000000; 0 parks after the pause spin, inside steps too).</summary>
    public void SetStepSpinMicroseconds(int microseconds) => NativeMethods.dyn_context_set_step_spin(_handle, microseconds).ThrowIfFailed();

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

    private static void ThrowAndFreeOnFailure(NativeStatus status, SafeContextHandle handle)
    {
        if (status == NativeStatus.Ok)
        {
            return;
        }

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
