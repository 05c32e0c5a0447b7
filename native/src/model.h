// A Llama-family model (llama, qwen2) whose weight matrices point straight into
// the memory-mapped GGUF file; only small vectors (norms, biases) are copied, and on CPUs
// with the q8x16 kernels (AVX-512 VNNI) the Q8_0 matmul weights, once, into that layout.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "gguf.h"

namespace dyn {

// A row-major weight matrix: rows of `cols` elements (GGUF ne1 x ne0).
struct Mat {
    const uint8_t* data = nullptr;
    uint32_t type = 0;
    int64_t rows = 0;
    int64_t cols = 0;
    size_t row_bytes = 0;
    // Q8_0 repacked into the q8x16 layout (q8x16.h): data is that copy and row() is meaningless;
    // row_bytes still tells the GGUF row size.
    bool q8x16 = false;

    const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes; }
};

struct Layer {
    std::vector<float> attn_norm;
    std::vector<float> ffn_norm;
    Mat wq, wk, wv, wo;
    Mat w_gate, w_up, w_down;
    std::vector<float> bq, bk, bv, bo;  // empty when absent
};

struct HParams {
    dyn_arch arch = DYN_ARCH_LLAMA;
    int n_vocab = 0;
    int n_embd = 0;
    int n_layer = 0;
    int n_head = 0;
    int n_head_kv = 0;
    int head_dim = 0;
    int n_ff = 0;
    int n_ctx_train = 0;
    int n_rot = 0;
    bool neox = false;
    float rms_eps = 1e-5f;
    float freq_base = 10000.0f;
    float freq_scale = 1.0f;

    int q_dim() const { return n_head * head_dim; }
    int kv_dim() const { return n_head_kv * head_dim; }
};

class Model {
public:
    explicit Model(const std::string& path);

    const HParams& hp() const { return hp_; }
    const Mat& tok_embd() const { return tok_embd_; }
    const Mat& output() const { return output_; }
    const std::vector<float>& output_norm() const { return output_norm_; }
    const std::vector<Layer>& layers() const { return layers_; }
    // Per rotated pair i: the angle per position, base^(-2i/n_rot) * freq_scale / freq_factor[i].
    const std::vector<double>& inv_freq() const { return inv_freq_; }
    bool tied_output() const { return tied_output_; }
    int64_t n_params() const { return n_params_; }
    int64_t weight_bytes() const { return weight_bytes_; }
    // Whether the Q8_0 matmul weights were repacked into the q8x16 layout.
    bool has_q8x16() const { return q8x16_ != nullptr; }
    // The widest matmul input, for sizing activation scratch.
    int max_in_dim() const;

private:
    void read_hparams();
    Mat mat(const std::string& name, int64_t cols, int64_t rows, bool required = true);
    std::vector<float> vec(const std::string& name, int64_t n, bool required = true);
    void load_rope();
    void repack_q8x16();

    struct FreeDeleter {
        void operator()(uint8_t* p) const { std::free(p); }
    };

    GgufFile gguf_;
    std::string arch_name_;
    HParams hp_;
    Mat tok_embd_, output_;
    std::vector<float> output_norm_;
    std::vector<Layer> layers_;
    std::vector<double> inv_freq_;
    bool tied_output_ = false;
    int64_t n_params_ = 0;
    int64_t weight_bytes_ = 0;
    std::unique_ptr<uint8_t, FreeDeleter> q8x16_;  // every repacked matrix, 64-byte aligned
};

}  // namespace dyn
