// The C boundary: every entry point validates its pointers, runs the C++ code
// inside guard(), and turns any exception into a status plus a thread-local message.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "fast_exp.h"
#include "forward.h"
#include "kernels.h"
#include "kv_pool.h"
#include "matmul.h"
#include "q8x16.h"
#include "model.h"

struct dyn_model {
    explicit dyn_model(const std::string& path) : impl(path) {}
    dyn::Model impl;
};

struct dyn_kv_pool {
    dyn_kv_pool(const dyn::Model& m, int n, int bs, dyn_kv_type t) : impl(m, n, bs, t) {}
    dyn::KvPool impl;
};

struct dyn_context {
    dyn_context(const dyn::Model& m, dyn::KvPool& p, const dyn_context_params& params) : impl(m, p, params) {}
    dyn::Context impl;
};

namespace {

thread_local std::string t_last_error;

template <typename F>
dyn_status guard(F&& f) {
    try {
        f();
        t_last_error.clear();
        return DYN_OK;
    } catch (const dyn::Error& e) {
        t_last_error = e.what();
        return e.status();
    } catch (const std::bad_alloc&) {
        t_last_error = "out of memory";
        return DYN_ERR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        t_last_error = std::string("internal error: ") + e.what();
        return DYN_ERR_INTERNAL;
    } catch (...) {
        t_last_error = "internal error: unknown exception";
        return DYN_ERR_INTERNAL;
    }
}

void require(const void* p, const char* what) {
    if (p == nullptr) {
        dyn::fail(DYN_ERR_INVALID_ARGUMENT, std::string(what) + " must not be null");
    }
}

}  // namespace

extern "C" {

int32_t dyn_abi_version(void) { return DYN_ABI_VERSION; }

const char* dyn_last_error(void) { return t_last_error.c_str(); }

const char* dyn_kernels_name(void) { return dyn::kernels().name; }

void dyn_set_force_scalar(int32_t force) { dyn::set_force_scalar(force != 0); }

dyn_status dyn_model_load(const char* path, const dyn_model_params* params, dyn_model** out) {
    return guard([&] {
        require(path, "path");
        require(out, "model_out");
        *out = nullptr;
        if (params != nullptr && params->reserved != 0) {
            dyn::fail(DYN_ERR_INVALID_ARGUMENT, "dyn_model_params.reserved must be 0");
        }
        *out = new dyn_model(path);
    });
}

dyn_status dyn_model_get_info(const dyn_model* model, dyn_model_info* out) {
    return guard([&] {
        require(model, "model");
        require(out, "info_out");
        const dyn::Model& m = model->impl;
        const dyn::HParams& hp = m.hp();
        dyn_model_info i{};
        i.arch = hp.arch;
        i.n_vocab = hp.n_vocab;
        i.n_embd = hp.n_embd;
        i.n_layer = hp.n_layer;
        i.n_head = hp.n_head;
        i.n_head_kv = hp.n_head_kv;
        i.head_dim = hp.head_dim;
        i.n_ff = hp.n_ff;
        i.n_ctx_train = hp.n_ctx_train;
        i.n_rot = hp.n_rot;
        i.rope_neox = hp.neox ? 1 : 0;
        i.tied_output = m.tied_output() ? 1 : 0;
        i.rms_eps = hp.rms_eps;
        i.rope_freq_base = hp.freq_base;
        i.rope_freq_scale = hp.freq_scale;
        i.weight_type = static_cast<int32_t>(m.layers().front().wq.type);
        i.n_params = m.n_params();
        i.weight_bytes = m.weight_bytes();
        *out = i;
    });
}

void dyn_model_free(dyn_model* model) { delete model; }

dyn_status dyn_kv_pool_create(const dyn_model* model, int32_t num_blocks, int32_t block_size, int32_t kv_type,
                              dyn_kv_pool** out) {
    return guard([&] {
        require(model, "model");
        require(out, "pool_out");
        *out = nullptr;
        *out = new dyn_kv_pool(model->impl, num_blocks, block_size, static_cast<dyn_kv_type>(kv_type));
    });
}

void dyn_kv_pool_free(dyn_kv_pool* pool) { delete pool; }

int64_t dyn_kv_block_bytes(const dyn_kv_pool* pool) {
    return pool == nullptr ? 0 : static_cast<int64_t>(pool->impl.block_bytes());
}

dyn_status dyn_kv_block_export(const dyn_kv_pool* pool, int32_t block_id, void* dst, int64_t dst_len) {
    return guard([&] {
        require(pool, "pool");
        pool->impl.export_block(block_id, dst, dst_len);
    });
}

dyn_status dyn_kv_block_import(dyn_kv_pool* pool, int32_t block_id, const void* src, int64_t src_len) {
    return guard([&] {
        require(pool, "pool");
        pool->impl.import_block(block_id, src, src_len);
    });
}

dyn_status dyn_kv_block_copy(dyn_kv_pool* pool, int32_t src_block, int32_t dst_block) {
    return guard([&] {
        require(pool, "pool");
        pool->impl.copy_block(src_block, dst_block);
    });
}

dyn_status dyn_context_create(const dyn_model* model, dyn_kv_pool* pool, const dyn_context_params* params,
                              dyn_context** out) {
    return guard([&] {
        require(model, "model");
        require(pool, "pool");
        require(out, "context_out");
        *out = nullptr;
        const dyn_context_params defaults{};
        *out = new dyn_context(model->impl, pool->impl, params != nullptr ? *params : defaults);
    });
}

void dyn_context_free(dyn_context* ctx) { delete ctx; }

dyn_status dyn_context_set_threads(dyn_context* ctx, int32_t n_threads) {
    return guard([&] {
        require(ctx, "context");
        ctx->impl.set_threads(n_threads);
    });
}

int32_t dyn_context_threads(const dyn_context* ctx) { return ctx == nullptr ? 0 : ctx->impl.threads(); }

dyn_status dyn_context_set_spin(dyn_context* ctx, int32_t spin_us) {
    return guard([&] {
        require(ctx, "context");
        ctx->impl.set_spin_us(spin_us);
    });
}

int32_t dyn_context_spin(const dyn_context* ctx) { return ctx == nullptr ? -1 : ctx->impl.spin_us(); }

dyn_status dyn_context_set_step_spin(dyn_context* ctx, int32_t step_spin_us) {
    return guard([&] {
        require(ctx, "context");
        ctx->impl.set_step_spin_us(step_spin_us);
    });
}

int32_t dyn_context_step_spin(const dyn_context* ctx) { return ctx == nullptr ? -1 : ctx->impl.step_spin_us(); }

int32_t dyn_test_exp(const float* x, float* y, int32_t n, int32_t simd) {
    if (x == nullptr || y == nullptr || n < 0) {
        return 0;
    }
    if (simd == 0) {
        for (int32_t i = 0; i < n; i++) y[i] = dyn::exp_attn(x[i]);
        return 1;
    }
#if defined(DYN_HAVE_AVX2)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        dyn::exp_attn_avx2(x, y, n);
        return 1;
    }
#endif
    return 0;
}

int32_t dyn_test_silu(float* g, const float* u, int32_t n, int32_t simd) {
    if (g == nullptr || u == nullptr || n < 0) {
        return 0;
    }
    if (simd == 0) {
        dyn::silu_mul_scalar(g, u, n);
        return 1;
    }
#if defined(DYN_HAVE_AVX2)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        dyn::silu_mul_avx2(g, u, n);
        return 1;
    }
#endif
    return 0;
}

int32_t dyn_test_matmul_q8_0(const void* w, int64_t rows, int32_t cols, const float* x, int32_t T, int32_t threads,
                             float* y_engine, float* y_reference) {
    if (w == nullptr || x == nullptr || y_engine == nullptr || y_reference == nullptr || rows <= 0 || cols <= 0 ||
        cols % 32 != 0 || T <= 0 || threads <= 0) {
        return 0;
    }
    try {
        const int64_t nb = cols / 32;
        dyn::Mat mat;
        mat.data = static_cast<const uint8_t*>(w);
        mat.type = dyn::GGML_Q8_0;
        mat.rows = rows;
        mat.cols = cols;
        mat.row_bytes = static_cast<size_t>(nb) * sizeof(dyn::BlockQ8_0);
        // Repacked as a model's weights are on this CPU.
        std::unique_ptr<uint8_t, void (*)(void*)> packed(nullptr, std::free);
        if (dyn::q8x16_kernels_available()) {
            packed.reset(static_cast<uint8_t*>(std::aligned_alloc(64, dyn::q8x16_bytes(rows, cols))));
            if (packed == nullptr) {
                return 0;
            }
            dyn::q8x16_pack(mat.data, mat.row_bytes, rows, cols, packed.get(), threads);
        }
        const uint8_t* gguf_rows = mat.data;
        if (packed != nullptr) {
            mat.data = packed.get();
            mat.q8x16 = true;
        }
        std::vector<uint8_t> q8(static_cast<size_t>(T * nb) * sizeof(dyn::BlockQ8_0A));
        std::vector<dyn::ActQ8x> q8x(static_cast<size_t>(T * nb));
        std::vector<float> scratch(static_cast<size_t>(threads) * static_cast<size_t>(cols));
        dyn::Activations act;
        act.q8 = q8.data();
        act.q8x = reinterpret_cast<uint8_t*>(q8x.data());
        act.reset(x, T, cols);
        dyn::ThreadPool pool(threads);
        dyn::matmul(pool, mat, act, y_engine, rows, false, scratch.data(), cols);
        const auto* xq = reinterpret_cast<const dyn::BlockQ8_0A*>(q8.data());
        if (packed != nullptr) {
            // q8x16.h's order straight from the GGUF rows, so the packing is checked as well.
            for (int64_t t = 0; t < T; t++) {
                for (int64_t r = 0; r < rows; r++) {
                    const auto* wb = reinterpret_cast<const dyn::BlockQ8_0*>(gguf_rows + static_cast<size_t>(r) * mat.row_bytes);
                    float acc = 0.0f;
                    for (int64_t k = 0; k < nb; k++) {
                        const dyn::BlockQ8_0A& xb = xq[t * nb + k];
                        int32_t sum = 0;
                        for (int j = 0; j < 32; j++) sum += wb[k].qs[j] * xb.qs[j];
                        acc = std::fma(dyn::fp16_to_fp32(wb[k].d) * xb.d, static_cast<float>(sum), acc);
                    }
                    y_reference[t * rows + r] = acc;
                }
            }
        } else {
            const dyn::KernelTable& k = dyn::kernels();
            for (int64_t t = 0; t < T; t++) {
                for (int64_t r = 0; r < rows; r++) {
                    y_reference[t * rows + r] = k.dot_q8_0(gguf_rows + static_cast<size_t>(r) * mat.row_bytes, xq + t * nb, cols);
                }
            }
        }
        return 1;
    } catch (...) {
        return 0;
    }
}

int32_t dyn_context_profile(dyn_context* ctx, char* buf, int32_t len) {
    if (ctx == nullptr || !dyn::StepProfile::kEnabled) {
        return -1;
    }
    const std::string text = ctx->impl.take_profile();
    if (buf != nullptr && len > 0) {
        const size_t n = std::min(text.size(), static_cast<size_t>(len - 1));
        std::memcpy(buf, text.data(), n);
        buf[n] = '\0';
    }
    return static_cast<int32_t>(text.size());
}

int32_t dyn_context_parked_threads(const dyn_context* ctx) { return ctx == nullptr ? -1 : ctx->impl.parked_threads(); }

dyn_status dyn_step(dyn_context* ctx, const dyn_batch* batch) {
    return guard([&] {
        require(ctx, "context");
        require(batch, "batch");
        ctx->impl.step(*batch);
    });
}

}  // extern "C"
