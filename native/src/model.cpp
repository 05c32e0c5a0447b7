#include "model.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "kernels.h"
#include "q8x16.h"
#include "quants.h"

namespace dyn {

namespace {

std::string shape_str(const GgufTensor& t) {
    std::string s = "[";
    for (int d = 0; d < t.n_dims; d++) {
        s += (d ? ", " : "") + std::to_string(t.ne[d]);
    }
    return s + "]";
}

int positive_int(const GgufFile& f, const std::string& key, std::optional<int64_t> fallback) {
    const GgufValue* v = f.find(key);
    if (v != nullptr && v->type == GgufValueType::ARRAY) {
        fail(DYN_ERR_UNSUPPORTED, "metadata '" + key + "' varies per layer, which this engine does not support");
    }
    auto value = f.get_int(key);
    if (!value) {
        value = fallback;
    }
    if (!value) {
        fail(DYN_ERR_FORMAT, "required metadata '" + key + "' is missing");
    }
    if (*value <= 0 || *value > (1 << 30)) {
        fail(DYN_ERR_FORMAT, "metadata '" + key + "' has an invalid value " + std::to_string(*value));
    }
    return static_cast<int>(*value);
}

}  // namespace

Model::Model(const std::string& path) : gguf_(path) {
    read_hparams();
    const HParams& hp = hp_;

    tok_embd_ = mat("token_embd.weight", hp.n_embd, hp.n_vocab);
    output_norm_ = vec("output_norm.weight", hp.n_embd);
    output_ = mat("output.weight", hp.n_embd, hp.n_vocab, false);
    if (output_.data == nullptr) {
        output_ = tok_embd_;
        tied_output_ = true;
    }

    layers_.resize(static_cast<size_t>(hp.n_layer));
    for (int i = 0; i < hp.n_layer; i++) {
        const std::string p = "blk." + std::to_string(i) + ".";
        Layer& l = layers_[static_cast<size_t>(i)];
        l.attn_norm = vec(p + "attn_norm.weight", hp.n_embd);
        l.wq = mat(p + "attn_q.weight", hp.n_embd, hp.q_dim());
        l.wk = mat(p + "attn_k.weight", hp.n_embd, hp.kv_dim());
        l.wv = mat(p + "attn_v.weight", hp.n_embd, hp.kv_dim());
        l.wo = mat(p + "attn_output.weight", hp.q_dim(), hp.n_embd);
        l.bq = vec(p + "attn_q.bias", hp.q_dim(), false);
        l.bk = vec(p + "attn_k.bias", hp.kv_dim(), false);
        l.bv = vec(p + "attn_v.bias", hp.kv_dim(), false);
        l.bo = vec(p + "attn_output.bias", hp.n_embd, false);
        l.ffn_norm = vec(p + "ffn_norm.weight", hp.n_embd);
        l.w_gate = mat(p + "ffn_gate.weight", hp.n_embd, hp.n_ff);
        l.w_up = mat(p + "ffn_up.weight", hp.n_embd, hp.n_ff);
        l.w_down = mat(p + "ffn_down.weight", hp.n_ff, hp.n_embd);
        for (const Mat* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) {
            weight_bytes_ += static_cast<int64_t>(m->row_bytes) * m->rows;
        }
    }
    weight_bytes_ += static_cast<int64_t>(output_.row_bytes) * output_.rows;
    for (const GgufTensor& t : gguf_.tensors()) {
        n_params_ += t.elements();
    }
    load_rope();
    if (q8x16_kernels_available()) {
        repack_q8x16();
    }
}

void Model::repack_q8x16() {
    std::vector<Mat*> mats;
    for (Layer& l : layers_) {
        for (Mat* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) mats.push_back(m);
    }
    // A tied head reads the embedding table; output_ is its own Mat, so only the head is repacked
    // and the embedding lookup keeps the GGUF rows.
    mats.push_back(&output_);
    size_t total = 0;
    for (const Mat* m : mats) {
        if (m->type == GGML_Q8_0) total += q8x16_bytes(m->rows, m->cols);
    }
    if (total == 0) {
        return;
    }
    q8x16_.reset(static_cast<uint8_t*>(std::aligned_alloc(64, total)));
    if (q8x16_ == nullptr) {
        fail(DYN_ERR_OUT_OF_MEMORY, "cannot allocate " + std::to_string(total) + " bytes for the repacked Q8_0 weights");
    }
    uint8_t* next = q8x16_.get();
    for (Mat* m : mats) {
        if (m->type != GGML_Q8_0) continue;
        // A large model's weights (gigabytes) are packed on every core, one per 16 MB, so loading
        // stays I/O-bound; small matrices are not worth a thread.
        const size_t bytes = q8x16_bytes(m->rows, m->cols);
        const int threads = static_cast<int>(std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), std::max<size_t>(1, bytes >> 24)));
        q8x16_pack(m->data, m->row_bytes, m->rows, m->cols, next, threads);
        m->data = next;
        m->q8x16 = true;
        next += bytes;
    }
}

void Model::read_hparams() {
    const auto arch = gguf_.get_string("general.architecture");
    if (!arch) {
        fail(DYN_ERR_FORMAT, "metadata 'general.architecture' is missing");
    }
    arch_name_ = std::string(*arch);
    if (arch_name_ == "llama") {
        hp_.arch = DYN_ARCH_LLAMA;
        hp_.neox = false;
    } else if (arch_name_ == "qwen2") {
        hp_.arch = DYN_ARCH_QWEN2;
        hp_.neox = true;
    } else {
        fail(DYN_ERR_UNSUPPORTED, "model architecture '" + arch_name_ + "' is not supported (supported: llama, qwen2)");
    }
    const std::string a = arch_name_ + ".";
    if (auto experts = gguf_.get_int(a + "expert_count"); experts && *experts > 0) {
        fail(DYN_ERR_UNSUPPORTED, "mixture-of-experts models are not supported");
    }
    hp_.n_embd = positive_int(gguf_, a + "embedding_length", std::nullopt);
    hp_.n_layer = positive_int(gguf_, a + "block_count", std::nullopt);
    hp_.n_ff = positive_int(gguf_, a + "feed_forward_length", std::nullopt);
    hp_.n_head = positive_int(gguf_, a + "attention.head_count", std::nullopt);
    hp_.n_head_kv = positive_int(gguf_, a + "attention.head_count_kv", hp_.n_head);
    hp_.head_dim = positive_int(gguf_, a + "attention.key_length", hp_.n_embd / hp_.n_head);
    const int v_dim = positive_int(gguf_, a + "attention.value_length", hp_.head_dim);
    if (v_dim != hp_.head_dim) {
        fail(DYN_ERR_UNSUPPORTED, "attention key and value head sizes differ");
    }
    if (hp_.n_head % hp_.n_head_kv != 0) {
        fail(DYN_ERR_FORMAT, "attention.head_count is not a multiple of attention.head_count_kv");
    }
    hp_.n_ctx_train = positive_int(gguf_, a + "context_length", 2048);
    hp_.n_rot = positive_int(gguf_, a + "rope.dimension_count", hp_.head_dim);
    if (hp_.n_rot > hp_.head_dim || hp_.n_rot % 2 != 0) {
        fail(DYN_ERR_FORMAT, "rope.dimension_count " + std::to_string(hp_.n_rot) + " does not fit the head size");
    }
    if (hp_.head_dim % 2 != 0) {
        fail(DYN_ERR_FORMAT, "attention head size must be even");
    }
    hp_.rms_eps = static_cast<float>(gguf_.get_float(a + "attention.layer_norm_rms_epsilon")
                                         .value_or(hp_.arch == DYN_ARCH_QWEN2 ? 1e-6 : 1e-5));
    hp_.freq_base = static_cast<float>(gguf_.get_float(a + "rope.freq_base").value_or(10000.0));
    if (!(hp_.rms_eps > 0) || !(hp_.freq_base > 0)) {
        fail(DYN_ERR_FORMAT, "rms epsilon and rope.freq_base must be positive");
    }

    const std::string scaling(gguf_.get_string(a + "rope.scaling.type").value_or("none"));
    double factor = gguf_.get_float(a + "rope.scaling.factor").value_or(0.0);
    if (auto legacy = gguf_.get_float(a + "rope.scale_linear")) {
        factor = *legacy;
    }
    if (scaling == "linear" || (scaling == "none" && factor > 0)) {
        if (factor > 0 && factor != 1.0) {
            hp_.freq_scale = static_cast<float>(1.0 / factor);
        }
    } else if (scaling != "none") {
        fail(DYN_ERR_UNSUPPORTED, "rope scaling type '" + scaling + "' is not supported (supported: none, linear, llama3 rope_freqs)");
    }

    const GgufTensor* embd = gguf_.tensor("token_embd.weight");
    if (embd == nullptr) {
        fail(DYN_ERR_FORMAT, "required tensor 'token_embd.weight' is missing");
    }
    int64_t vocab = embd->ne[1];
    if (auto v = gguf_.get_int(a + "vocab_size")) {
        vocab = *v;
    } else if (const GgufValue* tokens = gguf_.find("tokenizer.ggml.tokens");
               tokens != nullptr && tokens->type == GgufValueType::ARRAY) {
        vocab = static_cast<int64_t>(tokens->array_len);
    }
    if (vocab != embd->ne[1]) {
        fail(DYN_ERR_FORMAT, "vocabulary size " + std::to_string(vocab) + " does not match token_embd.weight " +
                                 shape_str(*embd));
    }
    if (vocab <= 0 || vocab > (1 << 30)) {
        fail(DYN_ERR_FORMAT, "invalid vocabulary size");
    }
    hp_.n_vocab = static_cast<int>(vocab);
}

Mat Model::mat(const std::string& name, int64_t cols, int64_t rows, bool required) {
    const GgufTensor* t = gguf_.tensor(name);
    if (t == nullptr) {
        if (required) {
            fail(DYN_ERR_FORMAT, "required tensor '" + name + "' is missing");
        }
        return {};
    }
    if (t->ne[0] != cols || t->ne[1] != rows || t->ne[2] != 1 || t->ne[3] != 1) {
        fail(DYN_ERR_FORMAT, "tensor '" + name + "' has shape " + shape_str(*t) + ", expected [" +
                                 std::to_string(cols) + ", " + std::to_string(rows) + "]");
    }
    if (!type_supported_for_compute(t->type)) {
        fail(DYN_ERR_UNSUPPORTED, "tensor '" + name + "' has type " + type_name(t->type) +
                                      ", which this engine cannot compute with");
    }
    Mat m;
    m.data = t->data;
    m.type = t->type;
    m.rows = rows;
    m.cols = cols;
    m.row_bytes = t->nbytes / static_cast<size_t>(rows);
    return m;
}

std::vector<float> Model::vec(const std::string& name, int64_t n, bool required) {
    const GgufTensor* t = gguf_.tensor(name);
    if (t == nullptr) {
        if (required) {
            fail(DYN_ERR_FORMAT, "required tensor '" + name + "' is missing");
        }
        return {};
    }
    if (t->elements() != n || t->ne[0] != n) {
        fail(DYN_ERR_FORMAT, "tensor '" + name + "' has shape " + shape_str(*t) + ", expected [" +
                                 std::to_string(n) + "]");
    }
    if (!type_supported_for_compute(t->type)) {
        fail(DYN_ERR_UNSUPPORTED, "tensor '" + name + "' has type " + type_name(t->type) +
                                      ", which this engine cannot compute with");
    }
    std::vector<float> out(static_cast<size_t>(n));
    dequantize_row(t->type, t->data, out.data(), n);
    return out;
}

void Model::load_rope() {
    const int half = hp_.n_rot / 2;
    // Llama 3.x rope scaling arrives as per-frequency divisors in rope_freqs.weight.
    std::vector<float> factors = vec("rope_freqs.weight", half, false);
    inv_freq_.resize(static_cast<size_t>(half));
    for (int i = 0; i < half; i++) {
        double f = std::pow(static_cast<double>(hp_.freq_base), -2.0 * i / hp_.n_rot) * hp_.freq_scale;
        if (!factors.empty()) {
            if (!(factors[static_cast<size_t>(i)] > 0)) {
                fail(DYN_ERR_FORMAT, "rope_freqs.weight holds a non-positive factor");
            }
            f /= factors[static_cast<size_t>(i)];
        }
        inv_freq_[static_cast<size_t>(i)] = f;
    }
}

int Model::max_in_dim() const { return std::max({hp_.n_embd, hp_.n_ff, hp_.q_dim()}); }

}  // namespace dyn
