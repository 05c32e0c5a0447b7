// Q8_0 weights repacked for the AVX-512 VNNI kernels ("q8x16"), and the one order of arithmetic
// every Q8_0 product on such a CPU follows.
//
// Layout: rows in groups of 16 (the last group padded with zero rows). A group holds first the
// half-precision scales of its 16 rows for every block (block k: 16 × fp16 = 32 bytes), padded to
// 64 bytes, then the quants block by block: block k is 8 chunks of 64 bytes, chunk c holding, for
// each of the 16 rows, the 4 bytes w[32k + 4c .. 32k + 4c + 3] + 128 (unsigned). One aligned
// 64-byte load then feeds one dpbusd whose 16 int32 lanes are the 16 rows, so after 8 chunks a
// lane holds a row's exact block sum, and one conversion, one multiply and one FMA per block
// serve 16 rows.
//
// Order (bit for bit the same in the SIMD kernels and in q8x16_gemm_ref, whatever the batch):
//   acc = 0; for k in blocks: S = Σ_j w[32k + j] · x[32k + j] (exact integer);
//            acc = fma(fp16(d_w[k]) · d_x[k], (float) S, acc)
// where d_x is the activation row's (half-rounded) Q8_0 scale, as for the other kernels.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common.h"

namespace dyn {

constexpr int kQ8x16Rows = 16;

// One activation row's block k for the q8x16 kernels: its quants, scale, and -128 · Σ quants,
// which starts the integer sum so that the weights' +128 cancels.
struct ActQ8x {
    int8_t qs[32];
    float d;
    int32_t corr;
};
static_assert(sizeof(ActQ8x) == 40, "q8x16 activation block must be 40 bytes");

inline int64_t q8x16_groups(int64_t rows) { return (rows + kQ8x16Rows - 1) / kQ8x16Rows; }
inline size_t q8x16_scale_bytes(int64_t nb) { return (static_cast<size_t>(nb) * 32 + 63) / 64 * 64; }
inline size_t q8x16_group_bytes(int64_t nb) { return q8x16_scale_bytes(nb) + static_cast<size_t>(nb) * 512; }
inline size_t q8x16_bytes(int64_t rows, int64_t cols) {
    return static_cast<size_t>(q8x16_groups(rows)) * q8x16_group_bytes(cols / 32);
}

// Repacks rows × cols Q8_0 rows (GGUF layout, row_bytes apart) into dst (q8x16_bytes, 64-byte aligned),
// splitting the groups over `threads` threads (1: on the caller's).
void q8x16_pack(const uint8_t* src, size_t row_bytes, int64_t rows, int64_t cols, uint8_t* dst, int threads);

// The q8x16 operand of T Q8_0 activation rows (nb blocks each).
void q8x16_prepare(const BlockQ8_0A* x, int64_t T, int64_t nb, ActQ8x* out);

// y[t * ldy + r] (+)= row r · activation row t for rows [r0, r1), in the
// order above, with plain scalar code: the fallback and the tests' reference.
void q8x16_gemm_ref(const uint8_t* w, int64_t nb, int64_t r0, int64_t r1, const ActQ8x* x, int64_t T, float* y,
                    int64_t ldy, bool accumulate);

}  // namespace dyn
