// Inner-loop kernels behind a table of function pointers, chosen once at run
// time: AVX2+FMA+F16C when the CPU has them, a portable scalar set otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dyn {

struct KernelTable {
    const char* name;
    float (*dot_f32)(const float* a, const float* b, int n);
    float (*dot_f16)(const uint16_t* w, const float* x, int n);
    float (*dot_bf16)(const uint16_t* w, const float* x, int n);
    // Q8_0 weights · Q8_0-quantized activations; n elements (multiple of 32).
    float (*dot_q8_0)(const void* w, const void* x, int n);
    // Q4_0 weights · Q8_0-quantized activations.
    float (*dot_q4_0)(const void* w, const void* x, int n);
    void (*quantize_q8_0)(const float* x, void* y, int n);
    // Four activation rows (x_stride bytes apart) against one weight row: the weight row is
    // loaded once per block for all four, which is what makes batched matmuls cheaper per token.
    void (*dot4_f32)(const float* w, const float* x, size_t x_stride, int n, float* out);
    void (*dot4_f16)(const uint16_t* w, const float* x, size_t x_stride, int n, float* out);
    void (*dot4_q8_0)(const void* w, const void* x, size_t x_stride, int n, float* out);
    void (*dot4_q4_0)(const void* w, const void* x, size_t x_stride, int n, float* out);
    // y += a * x, for attention's value accumulation.
    void (*axpy_f32)(float a, const float* x, float* y, int n);
    void (*axpy_f16)(float a, const uint16_t* x, float* y, int n);
    void (*scale)(float* y, float a, int n);
    // Attention over one K/V block for one query head (KV cache as F32 / F16): n slots whose
    // rows are `stride` elements apart, head size hd. The online-softmax state (m, sum and acc
    // of hd floats) is updated exactly as the generic loop in forward.cpp does it, with
    // dot_f32/dot_f16, std::exp, scale and axpy_f32/axpy_f16, but with q and acc held in
    // registers. Null, or false returned, where that loop must run instead.
    bool (*attn_block_f32)(const float* q, const float* k, const float* v, size_t stride, int n, int hd, float scale,
                           float* scores, float* m, float* sum, float* acc);
    bool (*attn_block_f16)(const float* q, const uint16_t* k, const uint16_t* v, size_t stride, int n, int hd,
                           float scale, float* scores, float* m, float* sum, float* acc);
    // The same for two query heads that share the K/V head (grouped-query attention): each
    // head's state (m[i], sum[i], acc_i) is updated exactly as attn_block does it, but every K
    // and V row is read once for both. scores holds 2 * n floats. Null where absent.
    bool (*attn_block2_f32)(const float* q0, const float* q1, const float* k, const float* v, size_t stride, int n,
                            int hd, float scale, float* scores, float* m, float* sum, float* acc0, float* acc1);
    bool (*attn_block2_f16)(const float* q0, const float* q1, const uint16_t* k, const uint16_t* v, size_t stride,
                            int n, int hd, float scale, float* scores, float* m, float* sum, float* acc0, float* acc1);
    // Null unless the CPU has AVX-512 VNNI. Rows [r0, r1) of a Q8_0 weight of
    // `rows` rows and nb blocks per row in the q8x16 layout, against T activation rows prepared by
    // q8x16_prepare: y[t * ldy + r] (+)= W_r · X_t in q8x16.h's order, bit for bit what
    // q8x16_gemm_ref returns.
    void (*gemm_q8_0)(const uint8_t* w, int64_t nb, int64_t rows, int64_t r0, int64_t r1, const void* x, int64_t T,
                      float* y, int64_t ldy, bool accumulate);
    // Null unless the CPU has AVX-512; n a multiple of 16. F32 / F16 weights against T float
    // activation rows (n apart), each value bit for bit what dot_f32 / dot_f16 return.
    void (*gemm_f32)(const void* w, size_t w_stride, int64_t rows, const float* x, int64_t T, int n, float* y,
                     int64_t ldy, bool accumulate);
    void (*gemm_f16)(const void* w, size_t w_stride, int64_t rows, const float* x, int64_t T, int n, float* y,
                     int64_t ldy, bool accumulate);
};

const KernelTable& kernels();
void set_force_scalar(bool force);

// Whether this CPU runs the q8x16 kernels (AVX-512 VNNI): models then repack their Q8_0 weights.
bool q8x16_kernels_available();

// SwiGLU's gate: g[i] = g[i] / (1 + exp(-g[i])) · u[i], with the softmax's exp (fast_exp.h), so the
// AVX2 version and the scalar loop give the same bits; dispatched like kernels().
void silu_mul(float* g, const float* u, int64_t n);

const KernelTable& scalar_kernels();
#if defined(DYN_HAVE_AVX2)
const KernelTable& avx2_kernels();
const KernelTable& avxvnni_kernels();  // AVX2 + AVX-VNNI (kernels_avxvnni.cpp)
// The softmax exponential of the AVX2 attention kernel (fast_exp.h's exp_attn, 8 lanes at a time).
void exp_attn_avx2(const float* x, float* y, int n);
void silu_mul_avx2(float* g, const float* u, int64_t n);
// kernels_avx512.cpp, built with -mavx512f/bw/vl/vnni.
void gemm_q8_0_avx512(const uint8_t* w, int64_t nb, int64_t rows, int64_t r0, int64_t r1, const void* x, int64_t T,
                      float* y, int64_t ldy, bool accumulate);
void gemm_f32_avx512(const void* w, size_t w_stride, int64_t rows, const float* x, int64_t T, int n, float* y,
                     int64_t ldy, bool accumulate);
void gemm_f16_avx512(const void* w, size_t w_stride, int64_t rows, const float* x, int64_t T, int n, float* y,
                     int64_t ldy, bool accumulate);
#endif

}  // namespace dyn
