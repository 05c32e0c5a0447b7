// The AVX-512 kernels: Q8_0 weights in the q8x16 layout (q8x16.h) against any number of activation
// rows, F32/F16 GEMMs for batches, and attention two query rows per register (attn_rows_*). This translation unit alone is compiled with -mavx512f
// -mavx512bw -mavx512vl -mavx512vnni; kernels.cpp routes here only after checking the CPU.
//
// Q8_0 follows q8x16.h's order for every batch size (one token or many, the same arithmetic per
// output), so a token's logits stay bitwise independent of batch composition; the F32/F16 GEMMs
// keep the AVX2 dot product's summation order, attention the arithmetic kernels.h spells out.
//
// GCC 12 flags the deliberately undefined upper lanes inside some AVX-512 intrinsics
// (`__m512 __Y = __Y;`) as (maybe-)uninitialized; the warning is about the header, not this code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstring>
#include <type_traits>

#include "common.h"
#include "fast_exp.h"
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

// ---- Attention (KernelTable::attn_rows_*, kernels.h) with 512-bit registers ----
//
// Two query rows side by side in one register, row r0 in the low eight lanes and r1 in the high
// eight, every K and V vector broadcast to both halves: the eight-lane FMA chains of attn_rows are
// the AVX2 kernel's, lane for lane, at twice the work per instruction. The reduction mirrors
// hadd with even/odd shuffles (x0 + x1 is x1 + x0 bit for bit), the softmax is the AVX2 kernel's
// own operation for operation (exp_attn on eight doubles per register instead of four), and a lone
// last row goes to the AVX2 kernel, so every row's result is what the AVX2 and scalar kernels give.
namespace dyn {

namespace {

inline __m512 dup8(__m256 x) { return _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(x))); }

inline __m512 join8(__m256 lo, __m256 hi) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)), _mm256_castps_pd(hi), 1));
}

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

// _mm256_hadd_ps on each 256-bit half: per 128-bit lane [x0 + x1, x2 + x3, y0 + y1, y2 + y3].
inline __m512 hadd16(__m512 x, __m512 y) {
    return _mm512_add_ps(_mm512_shuffle_ps(x, y, _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_ps(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
}

// Scores of NP row pairs (rows q[0 .. 2·NP)) against eight slots (ks[8], past-the-end ones
// repeating the last valid row): each broadcast K vector feeds NP FMAs, 8·NP accumulators.
template <int NP, typename T>
inline void pair_scores8(const float* const* q, const T* const* ks, int c8, __m256 scale, float* out) {
    __m512 acc[NP][8];
    for (int pp = 0; pp < NP; pp++) {
        for (int j = 0; j < 8; j++) acc[pp][j] = _mm512_setzero_ps();
    }
    for (int c = 0; c < c8; c++) {
        __m512 qv[NP];
        for (int pp = 0; pp < NP; pp++) qv[pp] = join8(_mm256_loadu_ps(q[2 * pp] + 8 * c), _mm256_loadu_ps(q[2 * pp + 1] + 8 * c));
        for (int j = 0; j < 8; j++) {
            const __m512 kv = dup8(load8(ks[j] + 8 * c));
            for (int pp = 0; pp < NP; pp++) acc[pp][j] = _mm512_fmadd_ps(qv[pp], kv, acc[pp][j]);
        }
    }
    for (int pp = 0; pp < NP; pp++) {
        float* out0 = out + static_cast<size_t>(2 * pp) * kAttnUnit;
        for (int g = 0; g < 8; g += 4) {
            const __m512 w = hadd16(hadd16(acc[pp][g], acc[pp][g + 1]), hadd16(acc[pp][g + 2], acc[pp][g + 3]));
            // Per row, the low four lanes' partial sums plus the high four's: [r0 slots | r1 slots].
            const __m512 f = _mm512_add_ps(_mm512_shuffle_f32x4(w, w, _MM_SHUFFLE(2, 0, 2, 0)),
                                           _mm512_shuffle_f32x4(w, w, _MM_SHUFFLE(3, 1, 3, 1)));
            const __m256 sc = _mm256_mul_ps(_mm512_castps512_ps256(f), scale);
            _mm_storeu_ps(out0 + g, _mm256_castps256_ps128(sc));
            _mm_storeu_ps(out0 + kAttnUnit + g, _mm256_extractf128_ps(sc, 1));
        }
    }
}

// acc of NP row pairs (P 16-lane vectors each: the pair's first row low, second high) +=
// p_j · v_j: all 2·NP rows over the slots all of them see, each V vector feeding NP FMAs; then
// each pair on, lanes of a row past its own n left as they are.
template <int NP, int P, typename T>
inline void pair_values(float* const* a, const float* const* p, const int* n, const T* v, size_t stride,
                        const float* corr) {
    __m512 x[NP][P];
    int common = n[0];
    for (int pp = 0; pp < NP; pp++) {
        const __m512 cv = join8(_mm256_set1_ps(corr[2 * pp]), _mm256_set1_ps(corr[2 * pp + 1]));
        for (int i = 0; i < P; i++) {
            x[pp][i] = _mm512_mul_ps(cv, join8(_mm256_loadu_ps(a[2 * pp] + 8 * i), _mm256_loadu_ps(a[2 * pp + 1] + 8 * i)));
        }
        for (int r = 2 * pp; r < 2 * pp + 2; r++) common = n[r] < common ? n[r] : common;
    }
    for (int j = 0; j < common; j++) {
        const T* vj = v + static_cast<size_t>(j) * stride;
        __m512 pv[NP];
        for (int pp = 0; pp < NP; pp++) pv[pp] = join8(_mm256_set1_ps(p[2 * pp][j]), _mm256_set1_ps(p[2 * pp + 1][j]));
        for (int i = 0; i < P; i++) {
            const __m512 vv = dup8(load8(vj + 8 * i));
            for (int pp = 0; pp < NP; pp++) x[pp][i] = _mm512_fmadd_ps(pv[pp], vv, x[pp][i]);
        }
    }
    for (int pp = 0; pp < NP; pp++) {
        const int n0 = n[2 * pp], n1 = n[2 * pp + 1];
        for (int j = common; j < (n0 > n1 ? n0 : n1); j++) {
            const T* vj = v + static_cast<size_t>(j) * stride;
            const __mmask16 live = static_cast<__mmask16>((j < n0 ? 0x00ff : 0) | (j < n1 ? 0xff00 : 0));
            const __m512 pv = join8(_mm256_set1_ps(j < n0 ? p[2 * pp][j] : 0.0f), _mm256_set1_ps(j < n1 ? p[2 * pp + 1][j] : 0.0f));
            for (int i = 0; i < P; i++) x[pp][i] = _mm512_mask3_fmadd_ps(pv, dup8(load8(vj + 8 * i)), x[pp][i], live);
        }
        for (int i = 0; i < P; i++) {
            _mm256_storeu_ps(a[2 * pp] + 8 * i, _mm512_castps512_ps256(x[pp][i]));
            _mm256_storeu_ps(a[2 * pp + 1] + 8 * i, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x[pp][i]), 1)));
        }
    }
}

template <int NP, typename T>
inline void pair_values_hd(float* acc, int hd, const float* p, const int* n, const T* v, size_t stride, const float* corr) {
    const int c8 = hd / 8;
    for (int c = 0; c < c8; c += 8) {
        float* a[2 * NP];
        const float* pr[2 * NP];
        for (int r = 0; r < 2 * NP; r++) {
            a[r] = acc + static_cast<size_t>(r) * hd + 8 * c;
            pr[r] = p + static_cast<size_t>(r) * kAttnUnit;
        }
        const T* vc = v + 8 * c;
        switch (c8 - c < 8 ? c8 - c : 8) {
            case 1: pair_values<NP, 1>(a, pr, n, vc, stride, corr); break;
            case 2: pair_values<NP, 2>(a, pr, n, vc, stride, corr); break;
            case 3: pair_values<NP, 3>(a, pr, n, vc, stride, corr); break;
            case 4: pair_values<NP, 4>(a, pr, n, vc, stride, corr); break;
            case 5: pair_values<NP, 5>(a, pr, n, vc, stride, corr); break;
            case 6: pair_values<NP, 6>(a, pr, n, vc, stride, corr); break;
            case 7: pair_values<NP, 7>(a, pr, n, vc, stride, corr); break;
            default: pair_values<NP, 8>(a, pr, n, vc, stride, corr); break;
        }
    }
}

// exp_attn (fast_exp.h) of sixteen lanes: the operations of kernels_avx2.cpp's exp4_attn on eight
// doubles at a time; lanes outside [kMin, kMax] go to exp_attn itself.
inline __m256 exp8_pd(__m256 x) {
    using namespace expc;
    const __m512d xd = _mm512_cvtps_pd(x);
    const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(xd, _mm512_set1_pd(kInvLn2)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(kLn2Hi), xd);
    r = _mm512_fnmadd_pd(n, _mm512_set1_pd(kLn2Lo), r);
    __m512d p = _mm512_set1_pd(kCoef[0]);
    for (int k = 1; k <= kDegree; k++) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(kCoef[k]));
    const __m512i magic = _mm512_castpd_si512(_mm512_set1_pd(6755399441055744.0));
    const __m512i t = _mm512_castpd_si512(_mm512_add_pd(n, _mm512_set1_pd(6755399441055744.0)));
    const __m512i e = _mm512_slli_epi64(_mm512_add_epi64(_mm512_sub_epi64(t, magic), _mm512_set1_epi64(1023)), 52);
    return _mm512_cvtpd_ps(_mm512_mul_pd(p, _mm512_castsi512_pd(e)));
}

// With high false only the low eight lanes are computed (the others come out as 1).
inline __m512 exp16(__m512 v, bool high) {
    using namespace expc;
    const __m256 lo = exp8_pd(_mm512_castps512_ps256(v));
    const __m256 hi = high ? exp8_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))) : _mm256_set1_ps(1.0f);
    const __m512 y = join8(lo, hi);
    const __mmask16 in = _mm512_cmp_ps_mask(v, _mm512_set1_ps(kMin), _CMP_GE_OQ) &
                         _mm512_cmp_ps_mask(v, _mm512_set1_ps(kMax), _CMP_LE_OQ);
    if ((in | (high ? 0 : 0xff00)) == 0xffff) {
        return y;
    }
    alignas(64) float vs[16], ys[16];
    _mm512_store_ps(vs, v);
    _mm512_store_ps(ys, y);
    for (int i = 0; i < (high ? 16 : 8); i++) {
        if (!(vs[i] >= kMin && vs[i] <= kMax)) ys[i] = exp_attn(vs[i]);
    }
    return _mm512_load_ps(ys);
}

// kernels_avx2.cpp's softmax_rows, sixteen lanes at a time: the same maxima, rescale factors
// (1 where the maximum did not grow), probabilities and running sums (the same addition tree).
inline void softmax16(float* scores, const int* n, int rows, float* m, float* sum, float* corr) {
    alignas(64) float bmax[kAttnMaxRows];
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    for (int r = 0; r < rows; r++) {
        const __mmask16 valid = static_cast<__mmask16>((1u << n[r]) - 1);
        bmax[r] = _mm512_reduce_max_ps(_mm512_mask_loadu_ps(ninf, valid, scores + static_cast<size_t>(r) * kAttnUnit));
    }
    const __mmask16 lanes = static_cast<__mmask16>((1u << rows) - 1);
    const __m512 mo = _mm512_maskz_loadu_ps(lanes, m);
    const __m512 bm = _mm512_maskz_loadu_ps(lanes, bmax);
    const __mmask16 grow = _mm512_mask_cmp_ps_mask(lanes, bm, mo, _CMP_GT_OQ);
    const __m512 c = exp16(_mm512_maskz_sub_ps(grow, mo, bm), rows > 8);
    _mm512_mask_storeu_ps(corr, lanes, c);
    _mm512_mask_storeu_ps(sum, lanes, _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, sum), c));
    _mm512_mask_storeu_ps(m, lanes, _mm512_mask_blend_ps(grow, mo, bm));
    for (int r = 0; r < rows; r++) {
        float* sc = scores + static_cast<size_t>(r) * kAttnUnit;
        const __mmask16 valid = static_cast<__mmask16>((1u << n[r]) - 1);
        const __m512 mv = _mm512_set1_ps(m[r]);
        // Masked lanes take exp(0) on the way (never the slow path), then become 0.
        const __m512 p = _mm512_maskz_mov_ps(valid, exp16(_mm512_sub_ps(_mm512_mask_loadu_ps(mv, valid, sc), mv), n[r] > 8));
        _mm512_storeu_ps(sc, p);
        const __m256 x = _mm256_add_ps(_mm512_castps512_ps256(p), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(p), 1)));
        sum[r] += hsum8(x);
    }
}

template <typename T>
void attn_pairs(const float* const* q, int pairs, const T* k, const T* v, size_t stride, const int* n, int hd,
                float scale, float* scores, float* m, float* sum, float* acc) {
    const int c8 = hd / 8;
    const __m256 vscale = _mm256_set1_ps(scale);
    // Two pairs at a time where there are two: the K and V vectors loaded per FMA halve, which
    // one pair's loop (a broadcast load per FMA) was bound by.
    for (int pp = 0; pp < pairs; pp += 2) {
        const int r = 2 * pp;
        const int rows = pairs - pp >= 2 ? 4 : 2;
        int nmax = 0;
        for (int i = r; i < r + rows; i++) nmax = n[i] > nmax ? n[i] : nmax;
        for (int j = 0; j < nmax; j += 8) {
            const T* ks[8];
            for (int i = 0; i < 8; i++) ks[i] = k + static_cast<size_t>(j + i < nmax ? j + i : nmax - 1) * stride;
            float* out = scores + static_cast<size_t>(r) * kAttnUnit + j;
            if (rows == 4) {
                pair_scores8<2>(q + r, ks, c8, vscale, out);
            } else {
                pair_scores8<1>(q + r, ks, c8, vscale, out);
            }
        }
    }
    float corr[kAttnMaxRows];
    softmax16(scores, n, 2 * pairs, m, sum, corr);
    for (int pp = 0; pp < pairs; pp += 2) {
        const int r = 2 * pp;
        float* a = acc + static_cast<size_t>(r) * hd;
        const float* p = scores + static_cast<size_t>(r) * kAttnUnit;
        if (pairs - pp >= 2) {
            pair_values_hd<2>(a, hd, p, n + r, v, stride, corr + r);
        } else {
            pair_values_hd<1>(a, hd, p, n + r, v, stride, corr + r);
        }
    }
}

// Row pairs through attn_pairs; a lone last row (or a head size that is no multiple of 8) through
// the AVX2 kernel, whose values are the same bits.
template <typename KV>
void attn_rows_avx512(const float* const* q, int rows, const KV* k, const KV* v, size_t stride, const int* n, int hd,
                      float scale, float* scores, float* m, float* sum, float* acc) {
    const int pairs = hd % 8 == 0 ? rows / 2 : 0;
    if (pairs > 0) attn_pairs(q, pairs, k, v, stride, n, hd, scale, scores, m, sum, acc);
    const int r = 2 * pairs;
    if (r < rows) {
        auto rest = [&](auto kernel) {
            kernel(q + r, rows - r, k, v, stride, n + r, hd, scale, scores, m + r, sum + r, acc + static_cast<size_t>(r) * hd);
        };
        if constexpr (std::is_same_v<KV, float>) {
            rest(avx2_kernels().attn_rows_f32);
        } else {
            rest(avx2_kernels().attn_rows_f16);
        }
    }
}

}  // namespace

void attn_rows_f32_avx512(const float* const* q, int rows, const float* k, const float* v, size_t stride, const int* n,
                          int hd, float scale, float* scores, float* m, float* sum, float* acc) {
    attn_rows_avx512(q, rows, k, v, stride, n, hd, scale, scores, m, sum, acc);
}

void attn_rows_f16_avx512(const float* const* q, int rows, const uint16_t* k, const uint16_t* v, size_t stride,
                          const int* n, int hd, float scale, float* scores, float* m, float* sum, float* acc) {
    attn_rows_avx512(q, rows, k, v, stride, n, hd, scale, scores, m, sum, acc);
}

}  // namespace dyn
