using Microsoft.Win32.SafeHandles;

namespace Dynamo.Worker.Engines.Native;

internal sealed class SafeModelHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeModelHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.dyn_model_free(handle);
        return true;
    }
}

/// <summary>A pool points at its model, so the handle keeps the model alive until the pool is freed.</summary>
internal sealed class SafeKvPoolHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private SafeModelHandle? _model;

    public SafeKvPoolHandle()
        : base(ownsHandle: true)
    {
    }

    public void KeepAlive(SafeModelHandle model)
    {
        var added = false;
        model.DangerousAddRef(ref added);
        _model = model;
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.dyn_kv_pool_free(handle);
        _model?.DangerousRelease();
        return true;
    }
}

/// <summary>A context points at its model and pool; both stay alive until the context is freed.</summary>
internal sealed class SafeContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private SafeModelHandle? _model;
    private SafeKvPoolHandle? _pool;

    public SafeContextHandle()
        : base(ownsHandle: true)
    {
    }

    public void KeepAlive(SafeModelHandle model, SafeKvPoolHandle pool)
    {
        var added = false;
        model.DangerousAddRef(ref added);
        _model = model;
        added = false;
        pool.DangerousAddRef(ref added);
        _pool = pool;
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.dyn_context_free(handle);
        _pool?.DangerousRelease();
        _model?.DangerousRelease();
        return true;
    }
}
