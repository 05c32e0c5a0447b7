// An execution context: the thread pool and all scratch for one step of up to
// max_batch_tokens tokens, allocated once so that step() never allocates.
#pragma once

#include <memory>
#include <vector>

#include "kv_pool.h"
#include "matmul.h"
#include "model.h"
#include "profile.h"
#include "threadpool.h"

namespace dyn {

class Context {
public:
    Context(const Model& model, KvPool& pool, const dyn_context_params& params);

    void set_threads(int n_threads);
    int threads() const { return pool_->size(); }
    void set_spin_us(int spin_us);
    int spin_us() const { return pool_->spin_us(); }
    void set_step_spin_us(int step_spin_us);
    int step_spin_us() const { return pool_->step_spin_us(); }
    int parked_threads() const { return pool_->parked(); }
    void step(const dyn_batch& batch);
    // Per-phase step times since the last call (empty unless built with DYN_PROFILE).
    std::string take_profile() { return profile_.take(); }

private:
    struct TokenRef {
        int32_t seq;
        int32_t pos;
    };

    int validate(const dyn_batch& batch);
    void attention_layer(int layer, int64_t n_tokens, const dyn_batch& batch);
    void attend_tile(int layer, const dyn_batch& batch, int64_t t0, int64_t t1, int h0, int h1, float* scratch);
    void rope_and_store(int layer, int64_t n_tokens, const dyn_batch& batch);
    void allocate_thread_scratch();

    const Model& model_;
    KvPool& kv_;
    int max_tokens_;
    int max_context_;
    std::unique_ptr<ThreadPool> pool_;

    std::vector<float> x_, xn_, q_, k_, v_, att_, gate_, up_;
    // RoPE's cos and sin per token and frequency (n_rot / 2 pairs), computed once per step: every
    // layer rotates by the same position.
    std::vector<float> rope_cs_;
    std::vector<uint8_t> q8_;
    std::vector<uint8_t> q8x_;           // ActQ8x blocks for the q8x16 kernels
    std::vector<float> thread_scratch_;  // per thread: dequant row + attention accumulators
    int64_t thread_stride_ = 0;
    std::vector<TokenRef> tokens_;
    std::vector<int32_t> out_rows_;      // token index of each requested logits row
    std::vector<int64_t> attn_seq_tasks_;   // per sequence of the step: its first attention task
    std::vector<int64_t> attn_seq_tokens_;  // per sequence of the step: its first token
    StepProfile profile_;
};

}  // namespace dyn
