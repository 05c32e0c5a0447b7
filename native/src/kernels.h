// Inner-loop kernels behind a table of function pointers, chosen once at run
// time: AVX2+FMA+F16C when the CPU has them, a portable scalar set otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dyn {

// Cache slots per attention kernel call (KernelTable::attn_rows_*): a block is walked in units of
// at most this many slots, so per-unit scores fit two 8-lane registers whatever the block size.
constexpr int kAttnUnit = 16;
// Query rows per attn_rows_* call at most.
constexpr int kAttnMaxRows = 16;

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
    // Attention of `rows` query rows (q[r], hd floats each) that share one K/V head, over one unit
    // of at most kAttnUnit consecutive cache slots (K and V rows `stride` elements apart); row r
    // sees the unit's first n[r] slots (1 <= n[r] <= kAttnUnit, rows <= kAttnMaxRows). Each row's
    // online-softmax state (m[r], sum[r], acc + r * hd) is updated by one fixed sequence of
    // operations, whatever the other rows are, so a token's output never depends on what shares
    // its step:
    //   score_j = reduce(lanes) * scale, where lane l (0..7) is the fused multiply-add chain of
    //             q[d] * k_j[d] over d = l, l + 8, ... from +0, and reduce is
    //             ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7));
    //   bmax = max of the n scores; if bmax > m: corr = exp_attn(m - bmax), sum *= corr,
    //             acc *= corr, m = bmax;
    //   p_j = exp_attn(score_j - m) for j < n, 0 for n <= j < 16; with x_i = p_i + p_(i+8) and
    //             y_i = x_i + x_(i+4): sum += (y0 + y1) + (y2 + y3);
    //   acc = fma(p_j, v_j, acc) for j = 0 .. n - 1 in order.
    // The scalar set computes exactly this with std::fma; the AVX2 set in vector lanes (scores
    // of four slots per register, each K and V vector loaded once for two query rows); the
    // AVX-512 set (kernels_avx512.cpp) two rows per register, two row pairs per K/V load. The
    // bits do not depend on the set. scores holds rows * kAttnUnit floats of scratch. Never null.
    void (*attn_rows_f32)(const float* const* q, int rows, const float* k, const float* v, size_t stride, const int* n,
                          int hd, float scale, float* scores, float* m, float* sum, float* acc);
    void (*attn_rows_f16)(const float* const* q, int rows, const uint16_t* k, const uint16_t* v, size_t stride,
                          const int* n, int hd, float scale, float* scores, float* m, float* sum, float* acc);
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
// The plain loop silu_mul runs without AVX2 (and the self-test's reference).
void silu_mul_scalar(float* g, const float* u, int64_t n);

const KernelTable& scalar_kernels();
#if defined(DYN_HAVE_AVX2)
const KernelTable& avx2_kernels();
const KernelTable& avxvnni_kernels();  // AVX2 + AVX-VNNI (kernels_avxvnni.cpp)
// The softmax exponential of the AVX2 attention kernel (fast_exp.h's exp_attn, 8 lanes at a time).
void exp_attn_avx2(const float* x, float* y, int n);
void silu_mul_avx2(float* g, const float* u, int64_t n);
// kernels_avx512.cpp: attn_rows_* two rows per 512-bit register, the same values bit for bit.
void attn_rows_f32_avx512(const float* const* q, int rows, const float* k, const float* v, size_t stride, const int* n,
                          int hd, float scale, float* scores, float* m, float* sum, float* acc);
void attn_rows_f16_avx512(const float* const* q, int rows, const uint16_t* k, const uint16_t* v, size_t stride,
                          const int* n, int hd, float scale, float* scores, float* m, float* sum, float* acc);
// kernels_avx512.cpp, built with -mavx512f/bw/vl/vnni.
void gemm_q8_0_avx512(const uint8_t* w, int64_t nb, int64_t rows, int64_t r0, int64_t r1, const void* x, int64_t T,
                      float* y, int64_t ldy, bool accumulate);
void gemm_f32_avx512(const void* w, size_t w_stride, int64_t rows, const float* x, int64_t T, int n, float* y,
                     int64_t ldy, bool accumulate);
void gemm_f16_avx512(const void* w, size_t w_stride, int64_t rows, const float* x, int64_t T, int n, float* y,
                     int64_t ldy, bool accumulate);
#endif

}  // namespace dyn
