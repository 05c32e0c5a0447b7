// The Llama/Qwen2 forward pass over a mixed batch (prefill chunks and single
// decode tokens), reading and writing K/V through each sequence's block table.
#include "forward.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels.h"
#include "q8x16.h"
#include "quants.h"

namespace dyn {

namespace {

void rms_norm_row(const float* x, const float* w, float* y, int n, float eps) {
    double sum = 0;
    for (int i = 0; i < n; i++) sum += static_cast<double>(x[i]) * x[i];
    const float scale = 1.0f / std::sqrt(static_cast<float>(sum / n) + eps);
    for (int i = 0; i < n; i++) y[i] = (x[i] * scale) * w[i];
}

// Per-token work (embedding lookup, norms, RoPE, SwiGLU) for this few tokens runs on the
// calling thread: it takes microseconds, less than waking the pool for it costs.
constexpr int64_t kSerialTokens = 2;

template <typename F>
void run_per_token(ThreadPool& pool, int64_t T, F&& f) {
    if (T <= kSerialTokens) {
        f(0, 1);
    } else {
        pool.run(f);
    }
}

int hardware_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace

Context::Context(const Model& model, KvPool& pool, const dyn_context_params& params) : model_(model), kv_(pool) {
    if (&pool.model() != &model) {
        fail(DYN_ERR_INVALID_ARGUMENT, "the KV pool was created for a different model");
    }
    if (params.reserved != 0) {
        fail(DYN_ERR_INVALID_ARGUMENT, "dyn_context_params.reserved must be 0");
    }
    const HParams& hp = model.hp();
    max_tokens_ = params.max_batch_tokens == 0 ? 512 : params.max_batch_tokens;
    max_context_ = params.max_context == 0 ? hp.n_ctx_train : params.max_context;
    if (max_tokens_ < 1 || max_tokens_ > (1 << 16)) {
        fail(DYN_ERR_INVALID_ARGUMENT, "max_batch_tokens must be in 1..65536, got " + std::to_string(max_tokens_));
    }
    if (max_context_ < 1 || max_context_ > (1 << 24)) {
        fail(DYN_ERR_INVALID_ARGUMENT, "max_context must be in 1..16777216, got " + std::to_string(max_context_));
    }
    if (params.n_threads < 0 || params.n_threads > 1024) {
        fail(DYN_ERR_INVALID_ARGUMENT, "n_threads must be in 0..1024");
    }
    const size_t T = static_cast<size_t>(max_tokens_);
    x_.resize(T * hp.n_embd);
    xn_.resize(T * hp.n_embd);
    q_.resize(T * hp.q_dim());
    k_.resize(T * hp.kv_dim());
    v_.resize(T * hp.kv_dim());
    att_.resize(T * hp.q_dim());
    gate_.resize(T * hp.n_ff);
    up_.resize(T * hp.n_ff);
    rope_cs_.resize(T * static_cast<size_t>(hp.n_rot));
    q8_.resize(T * (static_cast<size_t>(model.max_in_dim()) / 32 + 1) * sizeof(BlockQ8_0A));
    if (model.has_q8x16()) {
        q8x_.resize(T * (static_cast<size_t>(model.max_in_dim()) / 32) * sizeof(ActQ8x));
    }
    tokens_.resize(T);
    out_rows_.resize(T);
    attn_seq_tasks_.resize(T);
    attn_seq_tokens_.resize(T);
    set_threads(params.n_threads);
}

void Context::set_threads(int n_threads) {
    if (n_threads < 0 || n_threads > 1024) {
        fail(DYN_ERR_INVALID_ARGUMENT, "n_threads must be in 0..1024");
    }
    const int n = n_threads == 0 ? hardware_threads() : n_threads;
    const int spin = pool_ != nullptr ? pool_->spin_us() : ThreadPool::kDefaultSpinMicros;
    const int step_spin = pool_ != nullptr ? pool_->step_spin_us() : ThreadPool::kDefaultStepSpinMicros;
    pool_.reset();
    pool_ = std::make_unique<ThreadPool>(n, spin, step_spin);
    const HParams& hp = model_.hp();
    // Per thread: a dequantized weight row, then attention's accumulators, scores, maxima and sums
    // for kAttnMaxRows query rows (Context::attend_tile).
    thread_stride_ = (model_.max_in_dim() + kAttnMaxRows * (hp.head_dim + kAttnUnit + 2) + 15) / 16 * 16;
    thread_scratch_.assign(static_cast<size_t>(thread_stride_) * static_cast<size_t>(n), 0.0f);
}

void Context::set_spin_us(int spin_us) {
    if (spin_us < 0 || spin_us > ThreadPool::kMaxSpinMicros) {
        fail(DYN_ERR_INVALID_ARGUMENT,
             "spin must be in 0.." + std::to_string(ThreadPool::kMaxSpinMicros) + " microseconds, got " + std::to_string(spin_us));
    }
    pool_->set_spin_us(spin_us);
}

void Context::set_step_spin_us(int step_spin_us) {
    if (step_spin_us < 0 || step_spin_us > ThreadPool::kMaxStepSpinMicros) {
        fail(DYN_ERR_INVALID_ARGUMENT, "step spin must be in 0.." + std::to_string(ThreadPool::kMaxStepSpinMicros) +
                                           " microseconds, got " + std::to_string(step_spin_us));
    }
    pool_->set_step_spin_us(step_spin_us);
}

int Context::validate(const dyn_batch& b) {
    if (b.reserved != 0) {
        fail(DYN_ERR_INVALID_ARGUMENT, "dyn_batch.reserved must be 0");
    }
    if (b.n_seqs < 0 || (b.n_seqs > 0 && b.seqs == nullptr)) {
        fail(DYN_ERR_INVALID_ARGUMENT, "batch has no sequence array");
    }
    const HParams& hp = model_.hp();
    const int bs = kv_.block_size();
    int64_t total = 0;
    int n_out = 0;
    for (int s = 0; s < b.n_seqs; s++) {
        const dyn_seq& q = b.seqs[s];
        // Messages are built only on failure: a valid step allocates nothing.
        auto who = [s] { return "sequence " + std::to_string(s); };
        if (q.n_tokens < 1 || q.tokens == nullptr) {
            fail(DYN_ERR_INVALID_ARGUMENT, who() + " has no tokens");
        }
        if (q.start_pos < 0) {
            fail(DYN_ERR_INVALID_ARGUMENT, who() + " has a negative start position");
        }
        const int64_t end = static_cast<int64_t>(q.start_pos) + q.n_tokens;
        if (end > max_context_) {
            fail(DYN_ERR_OUT_OF_RANGE, "context overflow: " + who() + " reaches position " + std::to_string(end - 1) +
                                           " but the context holds " + std::to_string(max_context_) + " positions");
        }
        total += q.n_tokens;
        if (total > max_tokens_) {
            fail(DYN_ERR_OUT_OF_RANGE, "batch has more than max_batch_tokens (" + std::to_string(max_tokens_) +
                                           ") tokens");
        }
        const int64_t need = (end + bs - 1) / bs;
        if (q.block_table == nullptr || q.n_blocks < need) {
            fail(DYN_ERR_OUT_OF_RANGE, "block table too short: " + who() + " needs " + std::to_string(need) +
                                           " blocks for " + std::to_string(end) + " positions, got " +
                                           std::to_string(q.block_table == nullptr ? 0 : q.n_blocks));
        }
        for (int64_t i = 0; i < need; i++) {
            if (q.block_table[i] < 0 || q.block_table[i] >= kv_.num_blocks()) {
                fail(DYN_ERR_INVALID_ARGUMENT, who() + " block table entry " + std::to_string(i) + " = " +
                                                   std::to_string(q.block_table[i]) + " is outside the pool of " +
                                                   std::to_string(kv_.num_blocks()) + " blocks");
            }
        }
        for (int i = 0; i < q.n_tokens; i++) {
            if (q.tokens[i] < 0 || q.tokens[i] >= hp.n_vocab) {
                fail(DYN_ERR_INVALID_ARGUMENT, who() + " token " + std::to_string(i) + " = " +
                                                   std::to_string(q.tokens[i]) + " is outside the vocabulary of " +
                                                   std::to_string(hp.n_vocab));
            }
        }
        const int64_t first = total - q.n_tokens;
        for (int i = 0; i < q.n_tokens; i++) {
            tokens_[static_cast<size_t>(first + i)] = {s, q.start_pos + i};
        }
        if (q.want_logits != 0) {
            out_rows_[static_cast<size_t>(n_out++)] = static_cast<int32_t>(total - 1);
        }
    }
    if (n_out > 0 && (b.logits == nullptr || b.logits_len < static_cast<int64_t>(n_out) * hp.n_vocab)) {
        fail(DYN_ERR_INVALID_ARGUMENT, "logits buffer needs " + std::to_string(static_cast<int64_t>(n_out) * hp.n_vocab) +
                                           " floats for " + std::to_string(n_out) + " rows");
    }
    return static_cast<int>(total);
}

void Context::step(const dyn_batch& b) {
    // First, so that parked workers wake while this thread validates and embeds.
    StepScope scope(*pool_);
    profile_.start();
    const int64_t T = validate(b);
    if (T == 0) {
        return;
    }
    const HParams& hp = model_.hp();
    const int E = hp.n_embd;
    ThreadPool& pool = *pool_;
    float* x = x_.data();
    float* xn = xn_.data();
    float* deq = thread_scratch_.data();
    Activations act;
    act.q8 = q8_.data();
    act.q8x = q8x_.data();

    run_per_token(pool, T, [&](int ith, int nth) {
        int64_t t0, t1;
        split_range(T, ith, nth, t0, t1);
        for (int64_t t = t0; t < t1; t++) {
            const TokenRef& r = tokens_[static_cast<size_t>(t)];
            const dyn_seq& q = b.seqs[r.seq];
            const int32_t token = q.tokens[r.pos - q.start_pos];
            dequantize_row(model_.tok_embd().type, model_.tok_embd().row(token), x + t * E, E);
            float* cs = rope_cs_.data() + t * hp.n_rot;
            const std::vector<double>& inv_freq = model_.inv_freq();
            for (int i = 0; i < hp.n_rot / 2; i++) {
                const double theta = static_cast<double>(r.pos) * inv_freq[static_cast<size_t>(i)];
                cs[2 * i] = static_cast<float>(std::cos(theta));
                cs[2 * i + 1] = static_cast<float>(std::sin(theta));
            }
        }
    });
    profile_.mark(Phase::Embed);
    auto norm_all = [&](const std::vector<float>& w) {
        run_per_token(pool, T, [&](int ith, int nth) {
            int64_t t0, t1;
            split_range(T, ith, nth, t0, t1);
            for (int64_t t = t0; t < t1; t++) rms_norm_row(x + t * E, w.data(), xn + t * E, E, hp.rms_eps);
        });
    };

    for (int l = 0; l < hp.n_layer; l++) {
        const Layer& L = model_.layers()[static_cast<size_t>(l)];
        norm_all(L.attn_norm);
        profile_.mark(Phase::AttnNorm);
        act.reset(xn, T, E);
        const MatmulJob qkv[3] = {{&L.wq, q_.data(), hp.q_dim(), false},
                                  {&L.wk, k_.data(), hp.kv_dim(), false},
                                  {&L.wv, v_.data(), hp.kv_dim(), false}};
        prepare_activations(pool, L.wq, act);
        profile_.mark(Phase::QkvQuant);
        matmul_fused(pool, qkv, 3, act, deq, thread_stride_);
        profile_.mark(Phase::Qkv);
        rope_and_store(l, T, b);
        profile_.mark(Phase::Rope);
        attention_layer(l, T, b);
        profile_.mark(Phase::Attention);
        act.reset(att_.data(), T, hp.q_dim());
        prepare_activations(pool, L.wo, act);
        profile_.mark(Phase::OutQuant);
        matmul(pool, L.wo, act, x, E, true, deq, thread_stride_);
        if (!L.bo.empty()) {
            for (int64_t t = 0; t < T; t++) {
                for (int i = 0; i < E; i++) x[t * E + i] += L.bo[static_cast<size_t>(i)];
            }
        }
        profile_.mark(Phase::Wo);

        norm_all(L.ffn_norm);
        profile_.mark(Phase::FfnNorm);
        act.reset(xn, T, E);
        const MatmulJob gate_up[2] = {{&L.w_gate, gate_.data(), hp.n_ff, false}, {&L.w_up, up_.data(), hp.n_ff, false}};
        prepare_activations(pool, L.w_gate, act);
        profile_.mark(Phase::GateUpQuant);
        matmul_fused(pool, gate_up, 2, act, deq, thread_stride_);
        profile_.mark(Phase::GateUp);
        run_per_token(pool, T, [&](int ith, int nth) {
            int64_t b0, b1;
            split_range(T * hp.n_ff, ith, nth, b0, b1);
            float* g = gate_.data();
            const float* u = up_.data();
            silu_mul(g + b0, u + b0, b1 - b0);
        });
        profile_.mark(Phase::Silu);
        act.reset(gate_.data(), T, hp.n_ff);
        prepare_activations(pool, L.w_down, act);
        profile_.mark(Phase::DownQuant);
        matmul(pool, L.w_down, act, x, E, true, deq, thread_stride_);
        profile_.mark(Phase::Down);
    }

    int n_out = 0;
    for (int s = 0; s < b.n_seqs; s++) n_out += b.seqs[s].want_logits != 0 ? 1 : 0;
    if (n_out == 0) {
        return;
    }
    for (int j = 0; j < n_out; j++) {
        const int32_t t = out_rows_[static_cast<size_t>(j)];
        rms_norm_row(x + static_cast<int64_t>(t) * E, model_.output_norm().data(), xn + static_cast<int64_t>(j) * E, E,
                     hp.rms_eps);
    }
    act.reset(xn, n_out, E);
    matmul(pool, model_.output(), act, b.logits, hp.n_vocab, false, deq, thread_stride_);
    profile_.mark(Phase::Head);
}

void Context::rope_and_store(int layer, int64_t T, const dyn_batch& b) {
    const HParams& hp = model_.hp();
    const Layer& L = model_.layers()[static_cast<size_t>(layer)];
    const int hd = hp.head_dim, qd = hp.q_dim(), kd = hp.kv_dim(), half = hp.n_rot / 2;
    const int bs = kv_.block_size();
    run_per_token(*pool_, T, [&](int ith, int nth) {
        int64_t t0, t1;
        split_range(T, ith, nth, t0, t1);
        for (int64_t t = t0; t < t1; t++) {
            float* qr = q_.data() + t * qd;
            float* kr = k_.data() + t * kd;
            float* vr = v_.data() + t * kd;
            if (!L.bq.empty()) for (int i = 0; i < qd; i++) qr[i] += L.bq[static_cast<size_t>(i)];
            if (!L.bk.empty()) for (int i = 0; i < kd; i++) kr[i] += L.bk[static_cast<size_t>(i)];
            if (!L.bv.empty()) for (int i = 0; i < kd; i++) vr[i] += L.bv[static_cast<size_t>(i)];
            const TokenRef& r = tokens_[static_cast<size_t>(t)];
            const float* cs = rope_cs_.data() + t * hp.n_rot;
            for (int i = 0; i < half; i++) {
                const float c = cs[2 * i], s = cs[2 * i + 1];
                // Llama rotates adjacent pairs (GGUF Q/K are permuted for it); NeoX/Qwen2 rotates halves.
                const int i0 = hp.neox ? i : 2 * i;
                const int i1 = hp.neox ? i + half : 2 * i + 1;
                auto rotate = [&](float* head) {
                    const float a = head[i0], bb = head[i1];
                    head[i0] = a * c - bb * s;
                    head[i1] = a * s + bb * c;
                };
                for (int h = 0; h < hp.n_head; h++) rotate(qr + h * hd);
                for (int h = 0; h < hp.n_head_kv; h++) rotate(kr + h * hd);
            }
            const dyn_seq& q = b.seqs[r.seq];
            const int block = q.block_table[r.pos / bs];
            const size_t slot = static_cast<size_t>(r.pos % bs) * static_cast<size_t>(kd);
            if (kv_.type() == DYN_KV_F32) {
                std::memcpy(reinterpret_cast<float*>(kv_.k(block, layer)) + slot, kr, static_cast<size_t>(kd) * 4);
                std::memcpy(reinterpret_cast<float*>(kv_.v(block, layer)) + slot, vr, static_cast<size_t>(kd) * 4);
            } else {
                uint16_t* kd16 = reinterpret_cast<uint16_t*>(kv_.k(block, layer)) + slot;
                uint16_t* vd16 = reinterpret_cast<uint16_t*>(kv_.v(block, layer)) + slot;
                for (int i = 0; i < kd; i++) {
                    kd16[i] = fp32_to_fp16(kr[i]);
                    vd16[i] = fp32_to_fp16(vr[i]);
                }
            }
        }
    });
}

void Context::attention_layer(int layer, int64_t T, const dyn_batch& b) {
    const HParams& hp = model_.hp();
    const int group = hp.n_head / hp.n_head_kv;
    // A task is a tile of one sequence's consecutive tokens times the query heads of one K/V head
    // (kAttnMaxRows rows at most): each K/V unit is loaded once for the whole tile instead of once
    // per token and head pair, which in a 512-token prefill re-read a block from L2 for every
    // later token.
    const int heads = std::min(group, kAttnMaxRows);
    const int chunks = (group + heads - 1) / heads;
    const int tile = kAttnMaxRows / heads;
    int64_t tasks = 0, tokens = 0;
    for (int s = 0; s < b.n_seqs; s++) {
        attn_seq_tasks_[static_cast<size_t>(s)] = tasks;
        attn_seq_tokens_[static_cast<size_t>(s)] = tokens;
        tasks += static_cast<int64_t>(hp.n_head_kv) * chunks * ((b.seqs[s].n_tokens + tile - 1) / tile);
        tokens += b.seqs[s].n_tokens;
    }

    // Tasks claimed one at a time: late tiles cost more than early ones, and a thread that lost
    // its core leaves its tasks to the others. Within a sequence they go out K/V head by K/V head
    // (its blocks stay in cache while both threads sweep it), longest tile first so that the
    // short ones even out the threads' finish.
    pool_->run_chunks(tasks, 1, [&](int64_t task0, int64_t task1, int ith) {
        float* scratch = thread_scratch_.data() + static_cast<int64_t>(ith) * thread_stride_ + model_.max_in_dim();
        for (int64_t task = task0; task < task1; task++) {
            const int64_t* firsts = attn_seq_tasks_.data();
            const int s = static_cast<int>(std::upper_bound(firsts, firsts + b.n_seqs, task) - firsts) - 1;
            const int n_tokens = b.seqs[s].n_tokens;
            const int64_t tiles = (n_tokens + tile - 1) / tile;
            const int64_t local = task - firsts[s];
            const int g = static_cast<int>(local / (chunks * tiles));
            const int chunk = static_cast<int>(local / tiles % chunks);
            const int64_t tile_index = tiles - 1 - local % tiles;
            const int64_t seq_first = attn_seq_tokens_[static_cast<size_t>(s)];
            const int64_t t0 = seq_first + tile_index * tile;
            const int64_t t1 = std::min<int64_t>(t0 + tile, seq_first + n_tokens);
            const int h0 = g * group + chunk * heads;
            const int h1 = std::min(h0 + heads, (g + 1) * group);
            attend_tile(layer, b, t0, t1, h0, h1, scratch);
        }
    });
}

// Tokens [t0, t1) of one sequence (consecutive positions) and query heads [h0, h1) of one K/V
// head, over the context up to each token's own position, one unit of cache slots at a time.
void Context::attend_tile(int layer, const dyn_batch& b, int64_t t0, int64_t t1, int h0, int h1, float* scratch) {
    const HParams& hp = model_.hp();
    const KernelTable& k = kernels();
    const int hd = hp.head_dim, qd = hp.q_dim(), kd = hp.kv_dim();
    const int bs = kv_.block_size();
    const int nh = h1 - h0;
    const int rows = static_cast<int>(t1 - t0) * nh;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    const size_t head_off = static_cast<size_t>(h0 / (hp.n_head / hp.n_head_kv)) * hd;
    float* acc = scratch;
    float* scores = acc + kAttnMaxRows * hd;
    float* m = scores + kAttnMaxRows * kAttnUnit;
    float* sum = m + kAttnMaxRows;
    const float* q[kAttnMaxRows];
    int n[kAttnMaxRows];
    for (int r = 0; r < rows; r++) {
        q[r] = q_.data() + (t0 + r / nh) * qd + (h0 + r % nh) * hd;
        m[r] = -std::numeric_limits<float>::infinity();
        sum[r] = 0;
    }
    std::fill(acc, acc + static_cast<size_t>(rows) * hd, 0.0f);

    const TokenRef& first = tokens_[static_cast<size_t>(t0)];
    const int32_t* table = b.seqs[first.seq].block_table;
    const int last = first.pos + static_cast<int>(t1 - t0) - 1;
    // Units never cross a block and restart at every block's first slot, so each row sees the
    // same units (the same arithmetic) whatever tile it is in.
    for (int start = 0; start <= last;) {
        const int off = start % bs;
        const int len = std::min({kAttnUnit, bs - off, last + 1 - start});
        const int i0 = std::max(0, start - first.pos);  // tokens before i0 end before this unit
        const int r0 = i0 * nh;
        for (int i = i0, r = r0; r < rows; i++) {
            const int seen = std::min(len, first.pos + i + 1 - start);
            for (int h = 0; h < nh; h++) n[r++] = seen;
        }
        const int block = table[start / bs];
        const size_t slot = static_cast<size_t>(off) * kd + head_off;
        if (kv_.type() == DYN_KV_F16) {
            k.attn_rows_f16(q + r0, rows - r0, reinterpret_cast<const uint16_t*>(kv_.k(block, layer)) + slot,
                            reinterpret_cast<const uint16_t*>(kv_.v(block, layer)) + slot, static_cast<size_t>(kd),
                            n + r0, hd, scale, scores, m + r0, sum + r0, acc + static_cast<size_t>(r0) * hd);
        } else {
            k.attn_rows_f32(q + r0, rows - r0, reinterpret_cast<const float*>(kv_.k(block, layer)) + slot,
                            reinterpret_cast<const float*>(kv_.v(block, layer)) + slot, static_cast<size_t>(kd), n + r0,
                            hd, scale, scores, m + r0, sum + r0, acc + static_cast<size_t>(r0) * hd);
        }
        start += len;
    }
    for (int r = 0; r < rows; r++) {
        float* out = att_.data() + (t0 + r / nh) * qd + (h0 + r % nh) * hd;
        const float* a = acc + static_cast<size_t>(r) * hd;
        const float inv = 1.0f / sum[r];
        for (int i = 0; i < hd; i++) out[i] = a[i] * inv;
    }
}

}  // namespace dyn
