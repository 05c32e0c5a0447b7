using Dynamo.Runtime.Gguf;
using Dynamo.Worker.Models;

namespace Dynamo.Worker.Tests.Engine;

/// <summary>
/// A deliberately plain Llama/Qwen2 forward pass in double precision: no KV cache (every call
/// recomputes the whole sequence with causal attention), no batching, no SIMD. Weights are
/// decoded from the same GGUF file the engine loads (Q8_0 dequantized), so differences come
/// only from the engine's arithmetic.
/// </summary>
internal sealed class ReferenceModel
{
    private readonly int _embd, _layers, _heads, _kvHeads, _headDim, _ff, _vocab;
    private readonly double _eps;
    private readonly bool _neox;
    private readonly double[] _invFreq;
    private readonly float[] _tokEmbd, _output, _outputNorm;
    private readonly Layer[] _layerWeights;

    public ReferenceModel(string path)
    {
        using var file = GgufReader.Open(path);
        var arch = file.Get<string>("general.architecture");
        _neox = arch == "qwen2";
        _embd = (int)file.Get<uint>($"{arch}.embedding_length");
        _layers = (int)file.Get<uint>($"{arch}.block_count");
        _heads = (int)file.Get<uint>($"{arch}.attention.head_count");
        _kvHeads = (int)file.Get<uint>($"{arch}.attention.head_count_kv");
        _ff = (int)file.Get<uint>($"{arch}.feed_forward_length");
        _eps = file.Get<float>($"{arch}.attention.layer_norm_rms_epsilon");
        _headDim = _embd / _heads;
        var freqBase = (double)file.Get<float>($"{arch}.rope.freq_base");
        // Linear RoPE scaling divides every frequency; Llama-3 style rope_freqs.weight divides each one.
        var linear = file.TryGetSingle($"{arch}.rope.scaling.factor", out var f) ? f : 1f;
        var factors = file.TryGetTensor("rope_freqs.weight", out _) ? Load(file, "rope_freqs.weight") : null;
        _invFreq = Enumerable.Range(0, _headDim / 2)
            .Select(i => Math.Pow(freqBase, -2.0 * i / _headDim) / linear / (factors?[i] ?? 1f))
            .ToArray();

        float[] T(string name) => Load(file, name);
        _tokEmbd = T("token_embd.weight");
        _vocab = _tokEmbd.Length / _embd;
        _output = file.TryGetTensor("output.weight", out _) ? T("output.weight") : _tokEmbd;
        _outputNorm = T("output_norm.weight");
        _layerWeights = new Layer[_layers];
        for (var l = 0; l < _layers; l++)
        {
            var p = $"blk.{l}.";
            float[]? Opt(string n) => file.TryGetTensor(p + n, out _) ? T(p + n) : null;
            _layerWeights[l] = new Layer(
                T(p + "attn_norm.weight"), T(p + "attn_q.weight"), T(p + "attn_k.weight"), T(p + "attn_v.weight"),
                T(p + "attn_output.weight"), Opt("attn_q.bias"), Opt("attn_k.bias"), Opt("attn_v.bias"),
                T(p + "ffn_norm.weight"), T(p + "ffn_gate.weight"), T(p + "ffn_up.weight"), T(p + "ffn_down.weight"));
        }
    }

    public int VocabSize => _vocab;

    /// <summary>Logits after the last token of <paramref name="tokens"/> (positions 0..n-1).</summary>
    public double[] Logits(IReadOnlyList<int> tokens)
    {
        var n = tokens.Count;
        var x = new double[n][];
        for (var t = 0; t < n; t++)
        {
            x[t] = new double[_embd];
            for (var i = 0; i < _embd; i++)
            {
                x[t][i] = _tokEmbd[(tokens[t] * _embd) + i];
            }
        }

        var qDim = _heads * _headDim;
        var kvDim = _kvHeads * _headDim;
        foreach (var w in _layerWeights)
        {
            var q = new double[n][];
            var k = new double[n][];
            var v = new double[n][];
            for (var t = 0; t < n; t++)
            {
                var xn = RmsNorm(x[t], w.AttnNorm);
                q[t] = AddBias(MatVec(w.Q, xn, qDim), w.Bq);
                k[t] = AddBias(MatVec(w.K, xn, kvDim), w.Bk);
                v[t] = AddBias(MatVec(w.V, xn, kvDim), w.Bv);
                Rope(q[t], _heads, t);
                Rope(k[t], _kvHeads, t);
            }

            for (var t = 0; t < n; t++)
            {
                var attn = new double[qDim];
                for (var h = 0; h < _heads; h++)
                {
                    var g = h / (_heads / _kvHeads);
                    var scores = new double[t + 1];
                    for (var s = 0; s <= t; s++)
                    {
                        double dot = 0;
                        for (var i = 0; i < _headDim; i++)
                        {
                            dot += q[t][(h * _headDim) + i] * k[s][(g * _headDim) + i];
                        }

                        scores[s] = dot / Math.Sqrt(_headDim);
                    }

                    var max = scores.Max();
                    var weights = scores.Select(sc => Math.Exp(sc - max)).ToArray();
                    var sum = weights.Sum();
                    for (var s = 0; s <= t; s++)
                    {
                        for (var i = 0; i < _headDim; i++)
                        {
                            attn[(h * _headDim) + i] += weights[s] / sum * v[s][(g * _headDim) + i];
                        }
                    }
                }

                Accumulate(x[t], MatVec(w.O, attn, _embd));
                var xn = RmsNorm(x[t], w.FfnNorm);
                var gate = MatVec(w.Gate, xn, _ff);
                var up = MatVec(w.Up, xn, _ff);
                var hidden = new double[_ff];
                for (var i = 0; i < _ff; i++)
                {
                    hidden[i] = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
                }

                Accumulate(x[t], MatVec(w.Down, hidden, _embd));
            }
        }

        return MatVec(_output, RmsNorm(x[n - 1], _outputNorm), _vocab);
    }

    /// <summary>Greedy continuation of <paramref name="prompt"/> by <paramref name="count"/> tokens.</summary>
    public int[] Greedy(IReadOnlyList<int> prompt, int count)
    {
        var tokens = prompt.ToList();
        for (var i = 0; i < count; i++)
        {
            var logits = Logits(tokens);
            tokens.Add(Array.IndexOf(logits, logits.Max()));
        }

        return tokens.Skip(prompt.Count).ToArray();
    }

    private static float[] Load(GgufReader file, string name)
    {
        var info = file.Tensor(name);
        return TensorEncoding.Decode(file.ReadTensorData(info), info.Type, checked((int)info.ElementCount));
    }

    private double[] RmsNorm(double[] x, float[] w)
    {
        var mean = x.Sum(v => v * v) / x.Length;
        var scale = 1.0 / Math.Sqrt(mean + _eps);
        return x.Select((v, i) => v * scale * w[i]).ToArray();
    }

    /// <summary>W is rows × cols row-major (GGUF ne0 = cols); returns W · x.</summary>
    private static double[] MatVec(float[] w, double[] x, int rows)
    {
        var cols = x.Length;
        var y = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            double s = 0;
            for (var c = 0; c < cols; c++)
            {
                s += w[(r * cols) + c] * x[c];
            }

            y[r] = s;
        }

        return y;
    }

    private static double[] AddBias(double[] y, float[]? bias)
    {
        if (bias is not null)
        {
            for (var i = 0; i < y.Length; i++)
            {
                y[i] += bias[i];
            }
        }

        return y;
    }

    private static void Accumulate(double[] x, double[] delta)
    {
        for (var i = 0; i < x.Length; i++)
        {
            x[i] += delta[i];
        }
    }

    private void Rope(double[] heads, int headCount, int position)
    {
        var half = _headDim / 2;
        for (var h = 0; h < headCount; h++)
        {
            var o = h * _headDim;
            for (var i = 0; i < half; i++)
            {
                var theta = position * _invFreq[i];
                var (a, b) = _neox ? (o + i, o + i + half) : (o + (2 * i), o + (2 * i) + 1);
                var (x0, x1) = (heads[a], heads[b]);
                heads[a] = (x0 * Math.Cos(theta)) - (x1 * Math.Sin(theta));
                heads[b] = (x0 * Math.Sin(theta)) + (x1 * Math.Cos(theta));
            }
        }
    }

    private sealed record Layer(
        float[] AttnNorm, float[] Q, float[] K, float[] V, float[] O, float[]? Bq, float[]? Bk, float[]? Bv,
        float[] FfnNorm, float[] Gate, float[] Up, float[] Down);
}
