// The AVX-512 kernels: Q8_0 weights in the q8x16 layout (q8x16.h) against any number of activation
// rows, and F32/F16 GEMMs for batches. This translation unit alone is compiled with -mavx512f
// -mavx512bw -mavx512vl -mavx512vnni; kernels.cpp routes here only after checking the CPU.
//
// Q8_0 follows q8x16.h's order for every batch size (one token or many, the same arithmetic per
// output), so a token's logits stay bitwise independent of batch composition; the F32/F16 GEMMs
// keep the AVX2 dot product's summation order.
// GCC 12 flags the deliberately undefined upper lanes inside some AVX-512 intrinsics
// (`__m512 __Y = __Y;`) as (maybe-)uninitialized; the warning is about the header, not this code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstring>

#include "common.h"
#include "kernels.h"
#include "q8x16.h"

namespace dyn {

namespace {

// The horizontal sum of kernels_avx2.cpp, operation for operation.
inline float hsum8(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v);
    const __m128 hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    __m128 sh = _mm_movehdup_ps(lo);
    __m128 s = _mm_add_ps(lo, sh);
    sh = _mm_movehl_ps(sh, s);
    s = _mm_add_ss(s, sh);
    return _mm_cvtss_f32(s);
}

inline void put(float* y, float v, bool accumulate) { *y = accumulate ? *y + v : v; }

// Batch-1 decode streams every weight from memory once. Measured here, hardware prefetching
// alone left the kernels waiting on DRAM: this touches the bytes that will be needed
// kPrefetchDistance ahead of the `bytes` about to be read from p.
constexpr size_t kPrefetchDistance = 16384;

inline void prefetch_ahead(const uint8_t* p, size_t bytes, const uint8_t* end) {
    const uint8_t* ahead = p + kPrefetchDistance;
    for (size_t off = 0; off < bytes && ahead + off < end; off += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(ahead + off), _MM_HINT_T0);
    }
}

// P activation rows against one q8x16 group (16 weight rows, q8x16.h): acc[p]'s 16 lanes are the
// group's rows for activation row p. Per block the 8 weight chunks are loaded once for all P rows;
// each row then costs 8 dpbusd (two chains, joined exactly in integers), one conversion, one
// scale product and one FMA for 512 products.
template <int P>
inline void q8x16_group(const uint8_t* group, size_t scale_bytes, int64_t nb, const ActQ8x* x, __m512* acc) {
    const auto* scales = reinterpret_cast<const __m256i*>(group);
    const auto* quants = reinterpret_cast<const __m512i*>(group + scale_bytes);
    for (int p = 0; p < P; p++) acc[p] = _mm512_setzero_ps();
    for (int64_t k = 0; k < nb; k++) {
        const __m512 dw = _mm512_cvtph_ps(_mm256_load_si256(scales + k));
        const __m512i* q = quants + 8 * k;
        __m512i w[8];
        for (int c = 0; c < 8; c++) w[c] = _mm512_load_si512(q + c);
        for (int p = 0; p < P; p++) {
            const ActQ8x& a = x[static_cast<size_t>(p) * static_cast<size_t>(nb) + static_cast<size_t>(k)];
            int32_t xq[8];
            std::memcpy(xq, a.qs, sizeof(xq));
            __m512i s0 = _mm512_set1_epi32(a.corr);
            __m512i s1 = _mm512_setzero_si512();
            for (int c = 0; c < 8; c += 2) {
                s0 = _mm512_dpbusd_epi32(s0, w[c], _mm512_set1_epi32(xq[c]));
                s1 = _mm512_dpbusd_epi32(s1, w[c + 1], _mm512_set1_epi32(xq[c + 1]));
            }
            const __m512 d = _mm512_mul_ps(dw, _mm512_set1_ps(a.d));
            acc[p] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), acc[p]);
        }
    }
}

template <int P>
inline void q8x16_tile(const uint8_t* group, size_t scale_bytes, int64_t nb, const ActQ8x* x, float* y, int64_t ldy,
                       __mmask16 mask, bool accumulate) {
    __m512 acc[P];
    q8x16_group<P>(group, scale_bytes, nb, x, acc);
    for (int p = 0; p < P; p++) {
        float* yt = y + p * ldy;
        const __m512 v = accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(mask, yt), acc[p]) : acc[p];
        _mm512_mask_storeu_ps(yt, mask, v);
    }
}

// Float weights (F32, F16): R weight rows × C activation rows. One 512-bit register per output
// holds the AVX2 dot product's two 8-lane accumulators side by side: elements i..i+7 of each
// 16-element step in the low half, i+8..i+15 in the high half, which is exactly how 16
// consecutive floats load. The final hsum(low + high) is the AVX2 path's hsum(a + b).
template <int R, int C, typename Load>
void ftile(const uint8_t* w, size_t w_stride, const float* x, int64_t ldx, int n, int64_t t0, float* y, int64_t ldy,
           bool accumulate, Load load) {
    __m512 acc[R][C];
    for (int r = 0; r < R; r++) {
        for (int c = 0; c < C; c++) acc[r][c] = _mm512_setzero_ps();
    }
    for (int i = 0; i < n; i += 16) {
        __m512 wv[R];
        for (int r = 0; r < R; r++) wv[r] = load(w + static_cast<size_t>(r) * w_stride, i);
        for (int c = 0; c < C; c++) {
            const __m512 xv = _mm512_loadu_ps(x + (t0 + c) * ldx + i);
            for (int r = 0; r < R; r++) acc[r][c] = _mm512_fmadd_ps(wv[r], xv, acc[r][c]);
        }
    }
    for (int c = 0; c < C; c++) {
        for (int r = 0; r < R; r++) {
            const __m256 lo = _mm512_castps512_ps256(acc[r][c]);
            const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[r][c]), 1));
            put(y + (t0 + c) * ldy + r, hsum8(_mm256_add_ps(lo, hi)), accumulate);
        }
    }
}

template <int R, typename Load>
void ftile_r(int cols, const uint8_t* w, size_t w_stride, const float* x, int64_t ldx, int n, int64_t t0, float* y,
             int64_t ldy, bool accumulate, Load load) {
    switch (cols) {
        case 1: ftile<R, 1>(w, w_stride, x, ldx, n, t0, y, ldy, accumulate, load); return;
        case 2: ftile<R, 2>(w, w_stride, x, ldx, n, t0, y, ldy, accumulate, load); return;
        case 3: ftile<R, 3>(w, w_stride, x, ldx, n, t0, y, ldy, accumulate, load); return;
        default: ftile<R, 4>(w, w_stride, x, ldx, n, t0, y, ldy, accumulate, load); return;
    }
}

template <typename Load>
void gemm_float(const uint8_t* w, size_t w_stride, int64_t rows, const float* x, int64_t T, int n, float* y,
                int64_t ldy, bool accumulate, Load load) {
    constexpr int64_t kBlock = 16;
    for (int64_t rb = 0; rb < rows; rb += kBlock) {
        const int64_t re = rb + kBlock < rows ? rb + kBlock : rows;
        for (int64_t t = 0; t < T; t += 4) {
            const int cols = static_cast<int>(T - t < 4 ? T - t : 4);
            for (int64_t r = rb; r < re; r += 4) {
                const uint8_t* wr = w + static_cast<size_t>(r) * w_stride;
                if (t == 0) prefetch_ahead(wr, 4 * w_stride, w + static_cast<size_t>(rows) * w_stride);
                switch (re - r < 4 ? re - r : 4) {
                    case 1: ftile_r<1>(cols, wr, w_stride, x, n, n, t, y + r, ldy, accumulate, load); break;
                    case 2: ftile_r<2>(cols, wr, w_stride, x, n, n, t, y + r, ldy, accumulate, load); break;
                    case 3: ftile_r<3>(cols, wr, w_stride, x, n, n, t, y + r, ldy, accumulate, load); break;
                    default: ftile_r<4>(cols, wr, w_stride, x, n, n, t, y + r, ldy, accumulate, load); break;
                }
            }
        }
    }
}

// Activation rows per pass over a q8x16 group: the group's weights stay in L1/L2 while every
// pass reads them.
constexpr int64_t kTokens = 8;

}  // namespace

void gemm_q8_0_avx512(const uint8_t* w, int64_t nb, int64_t rows, int64_t r0, int64_t r1, const void* x_act,
                      int64_t T, float* y, int64_t ldy, bool accumulate) {
    const auto* x = static_cast<const ActQ8x*>(x_act);
    const size_t group_bytes = q8x16_group_bytes(nb);
    const size_t scale_bytes = q8x16_scale_bytes(nb);
    const uint8_t* end = w + static_cast<size_t>(q8x16_groups(rows)) * group_bytes;
    for (int64_t g = r0 / kQ8x16Rows; g * kQ8x16Rows < r1; g++) {
        const uint8_t* group = w + static_cast<size_t>(g) * group_bytes;
        // Lanes [first, last) of this group are rows of [r0, r1).
        const int64_t first = r0 > g * kQ8x16Rows ? r0 - g * kQ8x16Rows : 0;
        const int64_t last = r1 - g * kQ8x16Rows < kQ8x16Rows ? r1 - g * kQ8x16Rows : kQ8x16Rows;
        const auto mask = static_cast<__mmask16>(((1u << last) - 1u) & ~((1u << first) - 1u));
        // Batch-1 decode streams every weight from memory once; hardware prefetching alone left
        // the kernel waiting on DRAM.
        prefetch_ahead(group, group_bytes, end);
        float* yg = y + g * kQ8x16Rows;
        for (int64_t t = 0; t < T; t += kTokens) {
            const ActQ8x* xt = x + static_cast<size_t>(t) * static_cast<size_t>(nb);
            float* yt = yg + t * ldy;
            switch (T - t < kTokens ? T - t : kTokens) {
                case 1: q8x16_tile<1>(group, scale_bytes, nb, xt, yt, ldy, mask, accumulate); break;
                case 2: q8x16_tile<2>(group, scale_bytes, nb, xt, yt, ldy, mask, accumulate); break;
                case 3: q8x16_tile<3>(group, scale_bytes, nb, xt, yt, ldy, mask, accumulate); break;
                case 4: q8x16_tile<4>(group, scale_bytes, nb, xt, yt, ldy, mask, accumulate); break;
                case 5: q8x16_tile<5>(group, scale_bytes, nb, xt, yt, ldy, mask, accumulate); break;
                case 6: q8x16_tile<6>(group, scale_bytes, nb, xt, yt, ldy, mask, accumulate); break;
                case 7: q8x16_tile<7>(group, scale_bytes, nb, xt, yt, ldy, mask, accumulate); break;
                default: q8x16_tile<8>(group, scale_bytes, nb, xt, yt, ldy, mask, accumulate); break;
            }
        }
    }
}

void gemm_f32_avx512(const void* w, size_t w_stride, int64_t rows, const float* x, int64_t T, int n, float* y,
                     int64_t ldy, bool accumulate) {
    gemm_float(static_cast<const uint8_t*>(w), w_stride, rows, x, T, n, y, ldy, accumulate,
               [](const uint8_t* row, int i) { return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + i); });
}

void gemm_f16_avx512(const void* w, size_t w_stride, int64_t rows, const float* x, int64_t T, int n, float* y,
                     int64_t ldy, bool accumulate) {
    gemm_float(static_cast<const uint8_t*>(w), w_stride, rows, x, T, n, y, ldy, accumulate, [](const uint8_t* row, int i) {
        return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row) + i / 16));
    });
}

}  // namespace dyn
