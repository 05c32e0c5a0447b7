using System.Runtime.InteropServices;
using Dynamo.Runtime.Gguf;

namespace Dynamo.Worker.Engines.Native;

/// <summary>Architectures the native engine runs.</summary>
public enum NativeArchitecture
{
    Llama = 0,
    Qwen2 = 1,
}

/// <summary>Hyperparameters of a loaded model, as the engine read them from the GGUF file.</summary>
public sealed record NativeModelInfo(
    NativeArchitecture Architecture,
    int VocabSize,
    int EmbeddingLength,
    int LayerCount,
    int HeadCount,
    int KvHeadCount,
    int HeadDim,
    int FeedForwardLength,
    int TrainedContextLength,
    int RopeDimensions,
    bool RopeNeox,
    bool TiedOutput,
    float RmsEpsilon,
    float RopeFreqBase,
    float RopeFreqScale,
    GgmlType WeightType,
    long ParameterCount,
    long WeightBytes);

/// <summary>A GGUF model memory-mapped by the native engine.</summary>
public sealed class NativeModel : IDisposable
{
    private NativeModel(SafeModelHandle handle, NativeModelInfo info)
    {
        Handle = handle;
        Info = info;
    }

    public NativeModelInfo Info { get; }

    /// <summary>The kernel set chosen for this CPU ("avx2" or "scalar").</summary>
    public static string KernelsName => Marshal.PtrToStringUTF8(NativeMethods.dyn_kernels_name()) ?? "unknown";

    internal SafeModelHandle Handle { get; }

    /// <summary>Loads and validates a llama or qwen2 GGUF file; throws <see cref="NativeEngineException"/> on any problem.</summary>
    public static unsafe NativeModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckAbi();
        var parameters = default(DynModelParams);
        SafeModelHandle handle;
        try
        {
            NativeMethods.dyn_model_load(path, &parameters, out handle).ThrowIfFailed();
        }
        catch (NativeEngineException ex)
        {
            // The engine reports what is wrong; the operator also needs to know which file.
            throw new NativeEngineException(ex.Status, $"'{path}': {ex.NativeMessage}");
        }

        try
        {
            NativeMethods.dyn_model_get_info(handle, out var raw).ThrowIfFailed();
            return new NativeModel(handle, ToInfo(raw));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Forces the portable scalar kernels process-wide (for comparing against the SIMD path).</summary>
    public static void ForceScalarKernels(bool force) => NativeMethods.dyn_set_force_scalar(force ? 1 : 0);

    /// <summary>
    /// Kernel self-test: the attention softmax's exponential over <paramref name="x"/>, scalar or with the
    /// AVX2 kernel. False when the SIMD kernel is unavailable on this CPU.
    /// </summary>
    public static unsafe bool SoftmaxExp(ReadOnlySpan<float> x, Span<float> y, bool simd)
    {
        if (y.Length < x.Length)
        {
            throw new ArgumentException("The output is shorter than the input.", nameof(y));
        }

        fixed (float* px = x)
        fixed (float* py = y)
        {
            return NativeMethods.dyn_test_exp(px, py, x.Length, simd ? 1 : 0) == 1;
        }
    }

    /// <summary>
    /// Kernel self-test: SwiGLU's gate <c>g = g / (1 + exp(-g)) · u</c> in place, scalar or with the AVX2 kernel.
    /// False when the SIMD kernel is unavailable on this CPU.
    /// </summary>
    public static unsafe bool SiluMul(Span<float> g, ReadOnlySpan<float> u, bool simd)
    {
        if (u.Length < g.Length)
        {
            throw new ArgumentException("The up projection is shorter than the gate.", nameof(u));
        }

        fixed (float* pg = g)
        fixed (float* pu = u)
        {
            return NativeMethods.dyn_test_silu(pg, pu, g.Length, simd ? 1 : 0) == 1;
        }
    }

    /// <summary>
    /// Kernel self-test: a Q8_0 weight of <paramref name="rows"/> × <paramref name="cols"/> (GGUF blocks)
    /// against <paramref name="x"/>'s activation rows, once through the matmul a step runs (on a pool of
    /// <paramref name="threads"/>, the weight repacked as a model's is on this CPU) and once through plain code
    /// in the same order of arithmetic. Outputs are <c>[t * rows + r]</c>; the engine promises the two bit for
    /// bit equal.
    /// </summary>
    public static unsafe void MatmulQ8(ReadOnlySpan<byte> weights, int rows, int cols, ReadOnlySpan<float> x, int threads,
                                       Span<float> engine, Span<float> reference)
    {
        var t = cols > 0 ? x.Length / cols : 0;
        if (cols <= 0 || cols % 32 != 0 || rows <= 0 || t == 0 || x.Length != t * cols || weights.Length != rows * (cols / 32 * 34)
            || engine.Length < t * rows || reference.Length < t * rows)
        {
            throw new ArgumentException("Shapes do not match a Q8_0 weight of rows × cols and whole activation rows.");
        }

        fixed (byte* pw = weights)
        fixed (float* px = x)
        fixed (float* pe = engine)
        fixed (float* pr = reference)
        {
            if (NativeMethods.dyn_test_matmul_q8_0(pw, rows, cols, px, t, threads, pe, pr) != 1)
            {
                throw new ArgumentException("The engine refused the matmul self-test's arguments.");
            }
        }
    }

    public void Dispose() => Handle.Dispose();

    private static void CheckAbi()
    {
        var version = NativeMethods.dyn_abi_version();
        if (version != NativeMethods.AbiVersion)
        {
            throw new NativeEngineException(NativeStatus.Unsupported, $"native engine ABI {version} does not match the binding's ABI {NativeMethods.AbiVersion}; rebuild the worker");
        }
    }

    private static NativeModelInfo ToInfo(in DynModelInfo r) => new(
        (NativeArchitecture)r.Arch,
        r.VocabSize,
        r.EmbeddingLength,
        r.LayerCount,
        r.HeadCount,
        r.KvHeadCount,
        r.HeadDim,
        r.FeedForwardLength,
        r.TrainedContextLength,
        r.RopeDimensions,
        r.RopeNeox != 0,
        r.TiedOutput != 0,
        r.RmsEpsilon,
        r.RopeFreqBase,
        r.RopeFreqScale,
        (GgmlType)r.WeightType,
        r.ParameterCount,
        r.WeightBytes);
}
