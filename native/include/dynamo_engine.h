/*
 * Dynamo native inference engine: a small, stable C ABI.
 *
 * Every function returns a dyn_status (or a plain value where it cannot fail);
 * on failure dyn_last_error() returns a message for the calling thread. No
 * function aborts the process or lets a C++ exception escape.
 *
 * Ownership: a context keeps pointers to its model and pool, and a pool keeps a
 * pointer to its model; the caller frees contexts before pools before models.
 */
#ifndef DYNAMO_ENGINE_H
#define DYNAMO_ENGINE_H

#include <stdint.h>

#if defined(_WIN32)
#define DYN_API __declspec(dllexport)
#else
#define DYN_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define DYN_ABI_VERSION 1

typedef enum dyn_status {
    DYN_OK = 0,
    DYN_ERR_INVALID_ARGUMENT = 1, /* null pointer, negative size, bad token id, bad block id */
    DYN_ERR_IO = 2,               /* file missing, unreadable, mmap failed */
    DYN_ERR_FORMAT = 3,           /* corrupt or truncated GGUF, inconsistent shapes */
    DYN_ERR_UNSUPPORTED = 4,      /* unknown architecture, tensor type, rope scaling */
    DYN_ERR_OUT_OF_MEMORY = 5,
    DYN_ERR_OUT_OF_RANGE = 6,     /* context overflow, block table too short, batch too large */
    DYN_ERR_INTERNAL = 7,
} dyn_status;

typedef enum dyn_arch {
    DYN_ARCH_LLAMA = 0,
    DYN_ARCH_QWEN2 = 1,
} dyn_arch;

typedef enum dyn_kv_type {
    DYN_KV_F32 = 0,
    DYN_KV_F16 = 1,
} dyn_kv_type;

typedef struct dyn_model dyn_model;
typedef struct dyn_kv_pool dyn_kv_pool;
typedef struct dyn_context dyn_context;

typedef struct dyn_model_params {
    int32_t reserved; /* must be 0 */
} dyn_model_params;

typedef struct dyn_model_info {
    int32_t arch;          /* dyn_arch */
    int32_t n_vocab;
    int32_t n_embd;
    int32_t n_layer;
    int32_t n_head;
    int32_t n_head_kv;
    int32_t head_dim;
    int32_t n_ff;
    int32_t n_ctx_train;
    int32_t n_rot;
    int32_t rope_neox;     /* 1: rotate halves (NeoX), 0: rotate adjacent pairs */
    int32_t tied_output;   /* 1: output head shares token_embd */
    float rms_eps;
    float rope_freq_base;
    float rope_freq_scale;
    int32_t weight_type;   /* ggml type of attn_q in layer 0 (the file's dominant type) */
    int64_t n_params;
    int64_t weight_bytes;  /* bytes of tensor data read per token (all tensors) */
} dyn_model_info;

typedef struct dyn_context_params {
    int32_t max_batch_tokens; /* tokens per step across all sequences; 0 = 512 */
    int32_t max_context;      /* positions per sequence; 0 = model's context_length */
    int32_t n_threads;        /* 0 = all hardware threads */
    int32_t reserved;         /* must be 0 */
} dyn_context_params;

/* One sequence in a step: tokens[0..n_tokens) sit at positions start_pos.. and
 * the KV for position p lives in block block_table[p / block_size], slot p % block_size. */
typedef struct dyn_seq {
    const int32_t* tokens;
    const int32_t* block_table;
    int32_t n_tokens;
    int32_t start_pos;
    int32_t n_blocks;     /* entries in block_table */
    int32_t want_logits;  /* 1: write logits of the last token */
} dyn_seq;

/* Logits rows are written in sequence order, one row of n_vocab floats per
 * sequence with want_logits != 0. */
typedef struct dyn_batch {
    const dyn_seq* seqs;
    float* logits;
    int64_t logits_len;   /* floats available in logits */
    int32_t n_seqs;
    int32_t reserved;     /* must be 0 */
} dyn_batch;

DYN_API int32_t dyn_abi_version(void);
DYN_API const char* dyn_last_error(void);
/* Name of the kernel set in use ("avx2" or "scalar"). */
DYN_API const char* dyn_kernels_name(void);
/* Force the scalar kernels (1) or return to runtime dispatch (0); process-wide. */
DYN_API void dyn_set_force_scalar(int32_t force);

DYN_API dyn_status dyn_model_load(const char* path, const dyn_model_params* params, dyn_model** out);
DYN_API dyn_status dyn_model_get_info(const dyn_model* model, dyn_model_info* out);
DYN_API void dyn_model_free(dyn_model* model);

DYN_API dyn_status dyn_kv_pool_create(const dyn_model* model, int32_t num_blocks, int32_t block_size,
                                      int32_t kv_type, dyn_kv_pool** out);
DYN_API void dyn_kv_pool_free(dyn_kv_pool* pool);
DYN_API int64_t dyn_kv_block_bytes(const dyn_kv_pool* pool);
DYN_API dyn_status dyn_kv_block_export(const dyn_kv_pool* pool, int32_t block_id, void* dst, int64_t dst_len);
DYN_API dyn_status dyn_kv_block_import(dyn_kv_pool* pool, int32_t block_id, const void* src, int64_t src_len);
DYN_API dyn_status dyn_kv_block_copy(dyn_kv_pool* pool, int32_t src_block, int32_t dst_block);

DYN_API dyn_status dyn_context_create(const dyn_model* model, dyn_kv_pool* pool,
                                      const dyn_context_params* params, dyn_context** out);
DYN_API void dyn_context_free(dyn_context* ctx);
DYN_API dyn_status dyn_context_set_threads(dyn_context* ctx, int32_t n_threads);
DYN_API int32_t dyn_context_threads(const dyn_context* ctx);
/* How long (microseconds, 0..100000) a waiting pool thread spins with pause instructions; default
 * 50. Outside a step (after dyn_step returns) that is all: then it parks and uses no CPU, so an
 * idle engine costs nothing. Inside a step a wait goes on polling up to the step spin below. */
DYN_API dyn_status dyn_context_set_spin(dyn_context* ctx, int32_t spin_us);
/* The current spin budget in microseconds; -1 for a null context. */
DYN_API int32_t dyn_context_spin(const dyn_context* ctx);
/* How long (microseconds, 0..10000000) a thread waiting between the parallel regions of one step
 * keeps polling before it parks; default 4000. Past the pause spin it calls sched_yield between
 * polls, so other runnable threads get the core. Waking a parked thread costs tens to hundreds
 * of microseconds on a VM, more than most regions take. When dyn_step returns, the waits fall
 * back to the pause spin at once. 0 (or anything up to the pause spin) parks as soon as the
 * pause spin is spent, inside steps as well. */
DYN_API dyn_status dyn_context_set_step_spin(dyn_context* ctx, int32_t step_spin_us);
/* The current step spin budget in microseconds; -1 for a null context. */
DYN_API int32_t dyn_context_step_spin(const dyn_context* ctx);
/* Pool threads (not counting the caller) asleep right now, neither spinning nor working: all
 * of them shortly after a step returns. Diagnostics and tests; -1 for a null context. */
DYN_API int32_t dyn_context_parked_threads(const dyn_context* ctx);
/* Wall time per phase of the steps since the last call (text, NUL-terminated, truncated to
 * len - 1 bytes), and resets it. Returns the text's full length, or -1 when the library was built
 * without the cmake option DYN_PROFILE (the normal build) or ctx is null. Diagnostics. */
DYN_API int32_t dyn_context_profile(dyn_context* ctx, char* buf, int32_t len);
/* Kernel self-test: the attention softmax's exp over x[0..n) into y, scalar (simd = 0) or with
 * the AVX2 kernel (simd = 1). Returns 1, or 0 when that kernel is unavailable here. */
DYN_API int32_t dyn_test_exp(const float* x, float* y, int32_t n, int32_t simd);
/* Kernel self-test: SwiGLU's gate g[i] = g[i] / (1 + exp(-g[i])) * u[i] over n values in place, scalar
 * (simd = 0) or with the AVX2 kernel (simd = 1). Returns 1, or 0 when that kernel is unavailable here. */
DYN_API int32_t dyn_test_silu(float* g, const float* u, int32_t n, int32_t simd);
/* Kernel self-test: a Q8_0 weight (rows × cols, GGUF layout, cols a multiple of 32) against T
 * float activation rows, y[t * rows + r]. y_engine comes from the matmul a step runs (on a pool
 * of `threads`, with the weight repacked — on as many threads — and the kernels dispatched as a
 * model's are on this CPU), y_reference from plain code over the GGUF rows in the same order of
 * arithmetic: q8x16.h's (exact block sums, one FMA per block) where weights are repacked (AVX-512
 * VNNI), else the one-row dot product. The engine promises the two bit for bit equal. Returns 1, or 0 on invalid arguments. */
DYN_API int32_t dyn_test_matmul_q8_0(const void* w, int64_t rows, int32_t cols, const float* x, int32_t T,
                                     int32_t threads, float* y_engine, float* y_reference);
DYN_API dyn_status dyn_step(dyn_context* ctx, const dyn_batch* batch);

#ifdef __cplusplus
}
#endif

#endif /* DYNAMO_ENGINE_H */
