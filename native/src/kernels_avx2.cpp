// AVX2 + FMA + F16C kernels. This translation unit alone is compiled with
// -mavx2 -mfma -mf16c; kernels.cpp only routes here after checking the CPU.
// kernels_avxvnni.cpp compiles it again with DYN_AVXVNNI for CPUs with AVX-VNNI.
#include <immintrin.h>

#include <cmath>

#include "common.h"
#include "fast_exp.h"
#include "kernels.h"

namespace dyn {

namespace {

// F16C's single conversion; the portable bit-twiddling version is far slower in inner loops.
inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

inline float hsum(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v);
    const __m128 hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    __m128 sh = _mm_movehdup_ps(lo);
    __m128 s = _mm_add_ps(lo, sh);
    sh = _mm_movehl_ps(sh, s);
    s = _mm_add_ss(s, sh);
    return _mm_cvtss_f32(s);
}

inline __m256 load_f16(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline __m256 load_bf16(const uint16_t* p) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

float dot_bf16(const uint16_t* w, const float* x, int n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(load_bf16(w + i), _mm256_loadu_ps(x + i), s0);
        s1 = _mm256_fmadd_ps(load_bf16(w + i + 8), _mm256_loadu_ps(x + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8) {
        s0 = _mm256_fmadd_ps(load_bf16(w + i), _mm256_loadu_ps(x + i), s0);
    }
    float s = hsum(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += bf16_to_fp32(w[i]) * x[i];
    return s;
}

// The float dot products share one summation order whether they run alone or four rows at a
// time: two 8-lane accumulators over 16-element steps, one more 8-lane step, then a scalar tail.
// A token's logits therefore do not depend on how many other tokens share its step.
template <int R, typename Load, typename Tail>
void dot_rows(const float* const* x, int n, float* out, Load load_w, Tail tail) {
    __m256 a[R], b[R];
    for (int r = 0; r < R; r++) a[r] = b[r] = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 w0 = load_w(i), w1 = load_w(i + 8);
        for (int r = 0; r < R; r++) {
            a[r] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[r] + i), a[r]);
            b[r] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[r] + i + 8), b[r]);
        }
    }
    if (i + 8 <= n) {
        const __m256 w0 = load_w(i);
        for (int r = 0; r < R; r++) a[r] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[r] + i), a[r]);
        i += 8;
    }
    for (int r = 0; r < R; r++) out[r] = hsum(_mm256_add_ps(a[r], b[r]));
    for (; i < n; i++) {
        const float wi = tail(i);
        for (int r = 0; r < R; r++) out[r] += wi * x[r][i];
    }
}

float dot_f32(const float* w, const float* x, int n) {
    float out;
    dot_rows<1>(&x, n, &out, [w](int i) { return _mm256_loadu_ps(w + i); }, [w](int i) { return w[i]; });
    return out;
}

float dot_f16(const uint16_t* w, const float* x, int n) {
    float out;
    dot_rows<1>(&x, n, &out, [w](int i) { return load_f16(w + i); }, [w](int i) { return h2f(w[i]); });
    return out;
}

// Unsigned · signed int8 over 32 lanes into 8 int32 sums of four adjacent products. VNNI's
// dpbusd does it in one instruction; maddubs + madd give the same integers (|u| ≤ 128 and
// |s| ≤ 127, so the int16 pair sums cannot saturate), hence the same floats downstream.
inline __m256i dot_u8i8(const __m256i u, const __m256i s) {
#if defined(DYN_AVXVNNI)
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, s);
#else
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

// Signed int8 · int8 over 32 lanes into 8 int32 partial sums, as float.
// The instructions need one unsigned operand: |x| · (y with x's sign) has the same products.
inline __m256 mul_sum_i8(const __m256i x, const __m256i y) {
    return _mm256_cvtepi32_ps(dot_u8i8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x)));
}

float dot_q8_0(const void* w, const void* x, int n) {
    const auto* a = static_cast<const BlockQ8_0*>(w);
    const auto* b = static_cast<const BlockQ8_0A*>(x);
    __m256 acc = _mm256_setzero_ps();
    for (int k = 0; k < n / 32; k++) {
        const __m256 d = _mm256_set1_ps(h2f(a[k].d) * b[k].d);
        const __m256i qa = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a[k].qs));
        const __m256i qb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[k].qs));
        acc = _mm256_fmadd_ps(d, mul_sum_i8(qa, qb), acc);
    }
    return hsum(acc);
}

float dot_q4_0(const void* w, const void* x, int n) {
    const auto* a = static_cast<const BlockQ4_0*>(w);
    const auto* b = static_cast<const BlockQ8_0A*>(x);
    const __m256i low = _mm256_set1_epi8(0xF);
    const __m256i eight = _mm256_set1_epi8(8);
    __m256 acc = _mm256_setzero_ps();
    for (int k = 0; k < n / 32; k++) {
        const __m256 d = _mm256_set1_ps(h2f(a[k].d) * b[k].d);
        // Low nibbles are elements 0..15, high nibbles 16..31.
        const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a[k].qs));
        const __m256i both = _mm256_insertf128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
        const __m256i qa = _mm256_sub_epi8(_mm256_and_si256(both, low), eight);
        const __m256i qb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[k].qs));
        acc = _mm256_fmadd_ps(d, mul_sum_i8(qa, qb), acc);
    }
    return hsum(acc);
}

inline __m256i unpack_q4_0(const BlockQ4_0& blk) {
    // Low nibbles are elements 0..15, high nibbles 16..31; values are offset by 8.
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.qs));
    const __m256i both = _mm256_insertf128_si256(_mm256_castsi128_si256(packed), _mm_srli_epi16(packed, 4), 1);
    return _mm256_sub_epi8(_mm256_and_si256(both, _mm256_set1_epi8(0xF)), _mm256_set1_epi8(8));
}

// One weight block against four activation rows: |w| is computed once and reused.
template <typename Unpack, typename Block>
void dot4_q(const Block* a, const uint8_t* x, size_t stride, int n, float* out, Unpack unpack) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int k = 0; k < n / 32; k++) {
        const __m256i qa = unpack(a[k]);
        const __m256i ax = _mm256_sign_epi8(qa, qa);
        const float da = h2f(a[k].d);
        for (int r = 0; r < 4; r++) {
            const BlockQ8_0A& b = reinterpret_cast<const BlockQ8_0A*>(x + r * stride)[k];
            const __m256i sy = _mm256_sign_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)), qa);
            const __m256 p = _mm256_cvtepi32_ps(dot_u8i8(ax, sy));
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(da * b.d), p, acc[r]);
        }
    }
    for (int r = 0; r < 4; r++) out[r] = hsum(acc[r]);
}

void dot4_q8_0(const void* w, const void* x, size_t stride, int n, float* out) {
    dot4_q(static_cast<const BlockQ8_0*>(w), static_cast<const uint8_t*>(x), stride, n, out,
           [](const BlockQ8_0& b) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)); });
}

void dot4_q4_0(const void* w, const void* x, size_t stride, int n, float* out) {
    dot4_q(static_cast<const BlockQ4_0*>(w), static_cast<const uint8_t*>(x), stride, n, out, unpack_q4_0);
}

inline void rows4(const float* x, size_t stride, const float* (&rows)[4]) {
    for (int r = 0; r < 4; r++) {
        rows[r] = reinterpret_cast<const float*>(reinterpret_cast<const uint8_t*>(x) + r * stride);
    }
}

void dot4_f32(const float* w, const float* x, size_t stride, int n, float* out) {
    const float* rows[4];
    rows4(x, stride, rows);
    dot_rows<4>(rows, n, out, [w](int i) { return _mm256_loadu_ps(w + i); }, [w](int i) { return w[i]; });
}

void dot4_f16(const uint16_t* w, const float* x, size_t stride, int n, float* out) {
    const float* rows[4];
    rows4(x, stride, rows);
    dot_rows<4>(rows, n, out, [w](int i) { return load_f16(w + i); }, [w](int i) { return h2f(w[i]); });
}

void quantize_q8_0(const float* x, void* y, int n) {
    auto* out = static_cast<BlockQ8_0A*>(y);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int k = 0; k < n / 32; k++) {
        const float* p = x + k * 32;
        __m256 v0 = _mm256_loadu_ps(p), v1 = _mm256_loadu_ps(p + 8);
        __m256 v2 = _mm256_loadu_ps(p + 16), v3 = _mm256_loadu_ps(p + 24);
        __m256 m = _mm256_andnot_ps(sign, v0);
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v1));
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v2));
        m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v3));
        __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        out[k].d = fp16_to_fp32(fp32_to_fp16(amax / 127.0f));
        const __m256 id = _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
        constexpr int kRound = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
        __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, id), kRound));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, id), kRound));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, id), kRound));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, id), kRound));
        // packs work within 128-bit lanes; the permute restores element order.
        i0 = _mm256_packs_epi32(i0, i1);
        i2 = _mm256_packs_epi32(i2, i3);
        i0 = _mm256_packs_epi16(i0, i2);
        i0 = _mm256_permutevar8x32_epi32(i0, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[k].qs), i0);
    }
}

// exp_attn (fast_exp.h) on four lanes in double, operation for operation, so both give the same
// bits. Only for lanes inside [kMin, kMax]; exp8v sends the others to exp_attn.
inline __m128 exp4_attn(__m128 x) {
    using namespace expc;
    const __m256d xd = _mm256_cvtps_pd(x);
    const __m256d n = _mm256_round_pd(_mm256_mul_pd(xd, _mm256_set1_pd(kInvLn2)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(kLn2Hi), xd);
    r = _mm256_fnmadd_pd(n, _mm256_set1_pd(kLn2Lo), r);
    __m256d p = _mm256_set1_pd(kCoef[0]);
    for (int k = 1; k <= kDegree; k++) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(kCoef[k]));
    // 2^n: n + 1.5·2^52 holds n in its low mantissa bits; rebias and move them to the exponent.
    const __m256i magic = _mm256_castpd_si256(_mm256_set1_pd(6755399441055744.0));
    const __m256i t = _mm256_castpd_si256(_mm256_add_pd(n, _mm256_set1_pd(6755399441055744.0)));
    const __m256i e = _mm256_slli_epi64(_mm256_add_epi64(_mm256_sub_epi64(t, magic), _mm256_set1_epi64x(1023)), 52);
    return _mm256_cvtpd_ps(_mm256_mul_pd(p, _mm256_castsi256_pd(e)));
}

// exp_attn of eight lanes in registers; lanes outside [kMin, kMax] go to exp_attn itself.
inline __m256 exp8v(__m256 v) {
    using namespace expc;
    const __m256 in = _mm256_and_ps(_mm256_cmp_ps(v, _mm256_set1_ps(kMin), _CMP_GE_OQ),
                                    _mm256_cmp_ps(v, _mm256_set1_ps(kMax), _CMP_LE_OQ));
    const __m256 y = _mm256_set_m128(exp4_attn(_mm256_extractf128_ps(v, 1)), exp4_attn(_mm256_castps256_ps128(v)));
    if (_mm256_movemask_ps(in) == 0xff) {
        return y;
    }
    alignas(32) float vs[8], ys[8];
    _mm256_store_ps(vs, v);
    _mm256_store_ps(ys, y);
    for (int i = 0; i < 8; i++) {
        if (!(vs[i] >= kMin && vs[i] <= kMax)) ys[i] = exp_attn(vs[i]);
    }
    return _mm256_load_ps(ys);
}

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) { return load_f16(p); }

// A K or V vector used by two rows' FMAs: kept in a register. Left to itself GCC folds the load
// into both FMAs, and two loads per FMA pair made the attention loops load-bound.
template <typename T>
inline __m256 load8_reg(const T* p) {
    __m256 x = load8(p);
    __asm__("" : "+x"(x));
    return x;
}

// Four slots' lane sums reduced in attn_rows' order: hadd pairs lanes (l0 + l1, l2 + l3) within
// each 128-bit half, the second hadd adds those pairs, and the halves' sum is the last addition.
inline __m128 reduce4(const __m256* a) {
    const __m256 u = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
    return _mm_add_ps(_mm256_castps256_ps128(u), _mm256_extractf128_ps(u, 1));
}

// Scores of R query rows against J slots (J / 4 groups of four): R·J independent accumulators,
// eight in flight for the FMA latency, each K vector loaded once for all R rows. Every lane is
// the same fused chain whatever R and J are, so the pairing of rows never changes a score.
template <int R, int J, typename T>
inline void score_tile(const float* const* q, const T* const* ks, int c8, __m128 scale, float* const* out) {
    __m256 acc[R][J];
    for (int r = 0; r < R; r++) {
        for (int j = 0; j < J; j++) acc[r][j] = _mm256_setzero_ps();
    }
    for (int c = 0; c < c8; c++) {
        __m256 qv[R];
        for (int r = 0; r < R; r++) qv[r] = _mm256_loadu_ps(q[r] + 8 * c);
        for (int j = 0; j < J; j++) {
            const __m256 kv = R > 1 ? load8_reg(ks[j] + 8 * c) : load8(ks[j] + 8 * c);
            for (int r = 0; r < R; r++) acc[r][j] = _mm256_fmadd_ps(qv[r], kv, acc[r][j]);
        }
    }
    for (int r = 0; r < R; r++) {
        for (int j = 0; j < J; j += 4) _mm_storeu_ps(out[r] + j, _mm_mul_ps(reduce4(&acc[r][j]), scale));
    }
}

inline __m256 lanes_below(int n, int first) {
    return _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(n - first), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
}

// The softmax update of every row once the scores are in: block maxima row by row, then the
// rescale factors eight rows at a time, branch-free (corr is 1 where the maximum did not grow,
// and x·1 = x, so always scaling equals attn_rows' conditional one), then each row's
// probabilities in place (slots past n zeroed) and its running sum. Rows do not wait on one
// another: a branch per row on "did the maximum grow" mispredicted about half the time.
inline void softmax_rows(float* scores, const int* n, int rows, float* m, float* sum, float* corr) {
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    alignas(32) float bmax[kAttnMaxRows];
    for (int r = 0; r < rows; r++) {
        const float* sc = scores + static_cast<size_t>(r) * kAttnUnit;
        const __m256 mx = _mm256_max_ps(_mm256_blendv_ps(ninf, _mm256_loadu_ps(sc), lanes_below(n[r], 0)),
                                        _mm256_blendv_ps(ninf, _mm256_loadu_ps(sc + 8), lanes_below(n[r], 8)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        bmax[r] = _mm_cvtss_f32(m4);
    }
    for (int r = 0; r < rows; r += 8) {
        const __m256i valid = _mm256_castps_si256(lanes_below(rows, r));
        const __m256 mo = _mm256_maskload_ps(m + r, valid);
        const __m256 bm = _mm256_maskload_ps(bmax + r, valid);
        const __m256 grow = _mm256_and_ps(_mm256_cmp_ps(bm, mo, _CMP_GT_OQ), _mm256_castsi256_ps(valid));
        const __m256 c = exp8v(_mm256_blendv_ps(_mm256_setzero_ps(), _mm256_sub_ps(mo, bm), grow));
        _mm256_maskstore_ps(corr + r, valid, c);
        _mm256_maskstore_ps(sum + r, valid, _mm256_mul_ps(_mm256_maskload_ps(sum + r, valid), c));
        _mm256_maskstore_ps(m + r, valid, _mm256_blendv_ps(mo, bm, grow));
    }
    for (int r = 0; r < rows; r++) {
        float* sc = scores + static_cast<size_t>(r) * kAttnUnit;
        const __m256 v0 = lanes_below(n[r], 0), v1 = lanes_below(n[r], 8);
        // Masked lanes take exp(0) on the way (never the slow path), then become 0.
        const __m256 mv = _mm256_set1_ps(m[r]);
        const __m256 p0 = _mm256_and_ps(exp8v(_mm256_sub_ps(_mm256_blendv_ps(mv, _mm256_loadu_ps(sc), v0), mv)), v0);
        const __m256 p1 = n[r] > 8
                              ? _mm256_and_ps(exp8v(_mm256_sub_ps(_mm256_blendv_ps(mv, _mm256_loadu_ps(sc + 8), v1), mv)), v1)
                              : _mm256_setzero_ps();
        _mm256_storeu_ps(sc, p0);
        _mm256_storeu_ps(sc + 8, p1);
        sum[r] += hsum(_mm256_add_ps(p0, p1));
    }
}

// acc (P vectors of R rows, rows' accumulators already offset to this pass) += p_j · v_j over
// the slots all R rows see, then each row alone over its remaining slots. V vectors are loaded
// once per slot for all R rows.
template <int R, int P, typename T>
inline void value_pass(float* const* acc, const float* const* p, const int* n, const T* v, size_t stride,
                       const float* corr) {
    __m256 x[R][P];
    for (int r = 0; r < R; r++) {
        for (int i = 0; i < P; i++) x[r][i] = _mm256_mul_ps(_mm256_set1_ps(corr[r]), _mm256_loadu_ps(acc[r] + 8 * i));
    }
    int common = n[0];
    for (int r = 1; r < R; r++) common = n[r] < common ? n[r] : common;
    for (int j = 0; j < common; j++) {
        const T* vj = v + static_cast<size_t>(j) * stride;
        __m256 pv[R];
        for (int r = 0; r < R; r++) pv[r] = _mm256_set1_ps(p[r][j]);
        for (int i = 0; i < P; i++) {
            const __m256 vv = R > 1 ? load8_reg(vj + 8 * i) : load8(vj + 8 * i);
            for (int r = 0; r < R; r++) x[r][i] = _mm256_fmadd_ps(pv[r], vv, x[r][i]);
        }
    }
    for (int r = 0; r < R; r++) {
        for (int j = common; j < n[r]; j++) {
            const T* vj = v + static_cast<size_t>(j) * stride;
            const __m256 pv = _mm256_set1_ps(p[r][j]);
            for (int i = 0; i < P; i++) x[r][i] = _mm256_fmadd_ps(pv, load8(vj + 8 * i), x[r][i]);
        }
    }
    for (int r = 0; r < R; r++) {
        for (int i = 0; i < P; i++) _mm256_storeu_ps(acc[r] + 8 * i, x[r][i]);
    }
}

// The value update of R rows (1 or 2) over hd = 8·c8 dimensions, four vectors per row at a time.
template <int R, typename T>
inline void value_rows(float* const* acc, const float* const* p, const int* n, const T* v, size_t stride, int c8,
                       const float* corr) {
    for (int c = 0; c < c8; c += 4) {
        float* a[R];
        for (int r = 0; r < R; r++) a[r] = acc[r] + 8 * c;
        const T* vc = v + 8 * c;
        switch (c8 - c < 4 ? c8 - c : 4) {
            case 1: value_pass<R, 1>(a, p, n, vc, stride, corr); break;
            case 2: value_pass<R, 2>(a, p, n, vc, stride, corr); break;
            case 3: value_pass<R, 3>(a, p, n, vc, stride, corr); break;
            default: value_pass<R, 4>(a, p, n, vc, stride, corr); break;
        }
    }
}

// attn_rows (kernels.h) for head sizes that are a multiple of 8. Rows go in pairs: the scores of
// a pair take four slots at a time, a lone row eight; K rows past the longest row's n are never
// read (their pointers repeat the last valid row).
template <typename T>
void attn_rows_v(const float* const* q, int rows, const T* k, const T* v, size_t stride, const int* n, int hd,
                 float scale, float* scores, float* m, float* sum, float* acc) {
    const int c8 = hd / 8;
    const __m128 vscale = _mm_set1_ps(scale);
    for (int r = 0; r < rows; r += 2) {
        const int R = rows - r >= 2 ? 2 : 1;
        int nmax = n[r];
        if (R == 2 && n[r + 1] > nmax) nmax = n[r + 1];
        float* out[2] = {scores + static_cast<size_t>(r) * kAttnUnit, scores + static_cast<size_t>(r + 1) * kAttnUnit};
        for (int j = 0; j < nmax;) {
            const T* ks[8];
            for (int i = 0; i < 8; i++) ks[i] = k + static_cast<size_t>(j + i < nmax ? j + i : nmax - 1) * stride;
            float* o[2] = {out[0] + j, out[1] + j};
            if (R == 2) {
                score_tile<2, 4>(q + r, ks, c8, vscale, o);
                j += 4;
            } else if (nmax - j > 4) {
                score_tile<1, 8>(q + r, ks, c8, vscale, o);
                j += 8;
            } else {
                score_tile<1, 4>(q + r, ks, c8, vscale, o);
                j += 4;
            }
        }
    }
    float corr[kAttnMaxRows];
    softmax_rows(scores, n, rows, m, sum, corr);
    for (int r = 0; r < rows; r += 2) {
        float* a[2] = {acc + static_cast<size_t>(r) * hd, acc + static_cast<size_t>(r + 1) * hd};
        const float* p[2] = {scores + static_cast<size_t>(r) * kAttnUnit, scores + static_cast<size_t>(r + 1) * kAttnUnit};
        if (rows - r >= 2) {
            value_rows<2>(a, p, n + r, v, stride, c8, corr + r);
        } else {
            value_rows<1>(a, p, n + r, v, stride, c8, corr + r);
        }
    }
}

void attn_rows_f32(const float* const* q, int rows, const float* k, const float* v, size_t stride, const int* n, int hd,
                   float scale, float* scores, float* m, float* sum, float* acc) {
    if (hd % 8 != 0) {
        scalar_kernels().attn_rows_f32(q, rows, k, v, stride, n, hd, scale, scores, m, sum, acc);
        return;
    }
    attn_rows_v(q, rows, k, v, stride, n, hd, scale, scores, m, sum, acc);
}

void attn_rows_f16(const float* const* q, int rows, const uint16_t* k, const uint16_t* v, size_t stride, const int* n,
                   int hd, float scale, float* scores, float* m, float* sum, float* acc) {
    if (hd % 8 != 0) {
        scalar_kernels().attn_rows_f16(q, rows, k, v, stride, n, hd, scale, scores, m, sum, acc);
        return;
    }
    attn_rows_v(q, rows, k, v, stride, n, hd, scale, scores, m, sum, acc);
}

}  // namespace

#if !defined(DYN_AVXVNNI)
void exp_attn_avx2(const float* x, float* y, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, exp8v(_mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] = exp_attn(x[i]);
}

void silu_mul_avx2(float* g, const float* u, int64_t n) {
    using namespace expc;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 gv = _mm256_loadu_ps(g + i);
        const __m256 v = _mm256_xor_ps(gv, sign);
        __m256 e = _mm256_set_m128(exp4_attn(_mm256_extractf128_ps(v, 1)), exp4_attn(_mm256_castps256_ps128(v)));
        const __m256 in = _mm256_and_ps(_mm256_cmp_ps(v, _mm256_set1_ps(kMin), _CMP_GE_OQ),
                                        _mm256_cmp_ps(v, _mm256_set1_ps(kMax), _CMP_LE_OQ));
        if (_mm256_movemask_ps(in) != 0xff) {
            alignas(32) float vs[8], es[8];
            _mm256_store_ps(vs, v);
            _mm256_store_ps(es, e);
            for (int j = 0; j < 8; j++) {
                if (!(vs[j] >= kMin && vs[j] <= kMax)) es[j] = exp_attn(vs[j]);
            }
            e = _mm256_load_ps(es);
        }
        _mm256_storeu_ps(g + i, _mm256_mul_ps(_mm256_div_ps(gv, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) g[i] = g[i] / (1.0f + exp_attn(-g[i])) * u[i];
}
#endif

#if defined(DYN_AVXVNNI)
const KernelTable& avxvnni_kernels() {
    static const KernelTable table{"avx2-vnni", dot_f32, dot_f16, dot_bf16, dot_q8_0, dot_q4_0,
                                   quantize_q8_0,
                                   dot4_f32, dot4_f16, dot4_q8_0, dot4_q4_0,
                                   attn_rows_f32, attn_rows_f16,
                                   nullptr, nullptr, nullptr};
    return table;
}
#else
const KernelTable& avx2_kernels() {
    static const KernelTable table{"avx2", dot_f32, dot_f16, dot_bf16, dot_q8_0, dot_q4_0,
                                   quantize_q8_0,
                                   dot4_f32, dot4_f16, dot4_q8_0, dot4_q4_0,
                                   attn_rows_f32, attn_rows_f16,
                                   nullptr, nullptr, nullptr};
    return table;
}
#endif

}  // namespace dyn
