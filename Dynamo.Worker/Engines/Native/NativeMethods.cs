using System.Runtime.InteropServices;

namespace Dynamo.Worker.Engines.Native;

/// <summary>P/Invoke declarations for native/include/dynamo_engine.h. Callers go through <see cref="NativeStatusExtensions.ThrowIfFailed"/>.</summary>
internal static unsafe partial class NativeMethods
{
    public const string Library = "dynamo_engine";
    public const int AbiVersion = 1;

    [LibraryImport(Library)]
    public static partial int dyn_abi_version();

    [LibraryImport(Library)]
    public static partial nint dyn_last_error();

    [LibraryImport(Library)]
    public static partial nint dyn_kernels_name();

    [LibraryImport(Library)]
    public static partial void dyn_set_force_scalar(int force);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial NativeStatus dyn_model_load(string path, DynModelParams* parameters, out SafeModelHandle model);

    [LibraryImport(Library)]
    public static partial NativeStatus dyn_model_get_info(SafeModelHandle model, out DynModelInfo info);

    [LibraryImport(Library)]
    public static partial void dyn_model_free(nint model);

    [LibraryImport(Library)]
    public static partial NativeStatus dyn_kv_pool_create(SafeModelHandle model, int numBlocks, int blockSize, int kvType, out SafeKvPoolHandle pool);

    [LibraryImport(Library)]
    public static partial void dyn_kv_pool_free(nint pool);

    [LibraryImport(Library)]
    public static partial long dyn_kv_block_bytes(SafeKvPoolHandle pool);

    [LibraryImport(Library)]
    public static partial NativeStatus dyn_kv_block_export(SafeKvPoolHandle pool, int blockId, byte* dst, long dstLen);

    [LibraryImport(Library)]
    public static partial NativeStatus dyn_kv_block_import(SafeKvPoolHandle pool, int blockId, byte* src, long srcLen);

    [LibraryImport(Library)]
    public static partial NativeStatus dyn_kv_block_copy(SafeKvPoolHandle pool, int srcBlock, int dstBlock);

    [LibraryImport(Library)]
    public static partial NativeStatus dyn_context_create(SafeModelHandle model, SafeKvPoolHandle pool, DynContextParams* parameters, out SafeContextHandle context);

    [LibraryImport(Library)]
    public static partial void dyn_context_free(nint context);

    [LibraryImport(Library)]
    public static partial NativeStatus dyn_context_set_threads(SafeContextHandle context, int threads);

    [LibraryImport(Library)]
    public static partial int dyn_context_threads(SafeContextHandle context);

    [LibraryImport(Library)]
    public static partial NativeStatus dyn_context_set_spin(SafeContextHandle context, int spinMicroseconds);

    [LibraryImport(Library)]
    public static partial int dyn_context_spin(SafeContextHandle context);

    [LibraryImport(Library)]
    public static partial NativeStatus dyn_context_set_step_spin(SafeContextHandle context, int stepSpinMicroseconds);

    [LibraryImport(Library)]
    public static partial int dyn_context_step_spin(SafeContextHandle context);

    [LibraryImport(Library)]
    public static partial int dyn_context_parked_threads(SafeContextHandle context);

    [LibraryImport(Library)]
    public static partial int dyn_test_exp(float* x, float* y, int n, int simd);

    [LibraryImport(Library)]
    public static partial int dyn_test_silu(float* g, float* u, int n, int simd);

    [LibraryImport(Library)]
    public static partial int dyn_test_matmul_q8_0(byte* w, long rows, int cols, float* x, int t, int threads, float* yEngine, float* yReference);

    [LibraryImport(Library)]
    public static partial NativeStatus dyn_step(SafeContextHandle context, DynBatch* batch);
}

[StructLayout(LayoutKind.Sequential)]
internal struct DynModelParams
{
    public int Reserved;
}

[StructLayout(LayoutKind.Sequential)]
internal struct DynContextParams
{
    public int MaxBatchTokens;
    public int MaxContext;
    public int Threads;
    public int Reserved;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct DynSeq
{
    public int* Tokens;
    public int* BlockTable;
    public int TokenCount;
    public int StartPosition;
    public int BlockCount;
    public int WantLogits;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct DynBatch
{
    public DynSeq* Seqs;
    public float* Logits;
    public long LogitsLength;
    public int SeqCount;
    public int Reserved;
}

[StructLayout(LayoutKind.Sequential)]
internal struct DynModelInfo
{
    public int Arch;
    public int VocabSize;
    public int EmbeddingLength;
    public int LayerCount;
    public int HeadCount;
    public int KvHeadCount;
    public int HeadDim;
    public int FeedForwardLength;
    public int TrainedContextLength;
    public int RopeDimensions;
    public int RopeNeox;
    public int TiedOutput;
    public float RmsEpsilon;
    public float RopeFreqBase;
    public float RopeFreqScale;
    public int WeightType;
    public long ParameterCount;
    public long WeightBytes;
}
