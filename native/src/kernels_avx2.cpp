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

void axpy_f32(float a, const float* x, float* y, int n) {
    const __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    }
    for (; i < n; i++) y[i] += a * x[i];
}

void axpy_f16(float a, const uint16_t* x, float* y, int n) {
    const __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, load_f16(x + i), _mm256_loadu_ps(y + i)));
    }
    for (; i < n; i++) y[i] += a * fp16_to_fp32(x[i]);
}

void scale(float* y, float a, int n) {
    const __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_mul_ps(va, _mm256_loadu_ps(y + i)));
    }
    for (; i < n; i++) y[i] *= a;
}

// exp_attn (fast_exp.h) on four lanes in double, operation for operation, so both give the same
// bits. Only for lanes inside [kMin, kMax]; exp8_attn sends the others to exp_attn.
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

inline void exp8_attn(const float* x, float sub, float* y) {
    using namespace expc;
    const __m256 v = _mm256_sub_ps(_mm256_loadu_ps(x), _mm256_set1_ps(sub));
    const __m256 in = _mm256_and_ps(_mm256_cmp_ps(v, _mm256_set1_ps(kMin), _CMP_GE_OQ),
                                    _mm256_cmp_ps(v, _mm256_set1_ps(kMax), _CMP_LE_OQ));
    const __m128 lo = exp4_attn(_mm256_castps256_ps128(v));
    const __m128 hi = exp4_attn(_mm256_extractf128_ps(v, 1));
    _mm256_storeu_ps(y, _mm256_set_m128(hi, lo));
    if (_mm256_movemask_ps(in) != 0xff) {
        alignas(32) float vs[8];
        _mm256_store_ps(vs, v);
        for (int i = 0; i < 8; i++) {
            if (!(vs[i] >= kMin && vs[i] <= kMax)) y[i] = exp_attn(vs[i]);
        }
    }
}

// One K/V block of attention for one query head, with q and the accumulator in registers
// (2·C vectors each, hd = 16·C). The arithmetic is the generic loop's, operation for operation:
// each score is dot_rows<1> (two accumulators over 16-element steps, the same hsum) times the
// scale; a larger block maximum rescales acc and sum by std::exp(m − max); then per slot
// p = std::exp(score − m), sum += p, acc = p·v + acc. So results equal the generic path's.
// The online-softmax update of one head after its block scores are in: rescale when the block
// maximum is larger, exponentials in place, running sum. Returns the factor for acc (1 if none).
inline float softmax_block(float* scores, int n, float bmax, float* m, float* sum, bool* rescale) {
    float corr = 1.0f;
    *rescale = bmax > *m;
    if (*rescale) {
        corr = exp_attn(*m - bmax);
        *sum *= corr;
        *m = bmax;
    }
    const float mx = *m;
    int s8 = 0;
    for (; s8 + 8 <= n; s8 += 8) exp8_attn(scores + s8, mx, scores + s8);
    for (; s8 < n; s8++) scores[s8] = exp_attn(scores[s8] - mx);
    float total = *sum;
    for (int s = 0; s < n; s++) total += scores[s];
    *sum = total;
    return corr;
}

template <int C, typename T, typename Load>
void attn_block(const float* q, const T* k, const T* v, size_t stride, int n, float scl, float* scores, float* m,
                float* sum, float* acc_mem, Load load) {
    __m256 qv[2 * C];
    for (int i = 0; i < 2 * C; i++) qv[i] = _mm256_loadu_ps(q + 8 * i);
    float bmax = -INFINITY;
    for (int s = 0; s < n; s++) {
        const T* ks = k + static_cast<size_t>(s) * stride;
        __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
        for (int c = 0; c < C; c++) {
            a = _mm256_fmadd_ps(load(ks + 16 * c), qv[2 * c], a);
            b = _mm256_fmadd_ps(load(ks + 16 * c + 8), qv[2 * c + 1], b);
        }
        const float sc = hsum(_mm256_add_ps(a, b)) * scl;
        scores[s] = sc;
        bmax = bmax < sc ? sc : bmax;
    }
    // The exponentials first, eight at a time, with the accumulators not yet live.
    bool rescale;
    const float corr = softmax_block(scores, n, bmax, m, sum, &rescale);
    __m256 acc[2 * C];
    for (int i = 0; i < 2 * C; i++) acc[i] = _mm256_loadu_ps(acc_mem + 8 * i);
    if (rescale) {
        const __m256 vc = _mm256_set1_ps(corr);
        for (int i = 0; i < 2 * C; i++) acc[i] = _mm256_mul_ps(vc, acc[i]);
    }
    for (int s = 0; s < n; s++) {
        const __m256 vp = _mm256_set1_ps(scores[s]);
        const T* vs = v + static_cast<size_t>(s) * stride;
        for (int i = 0; i < 2 * C; i++) acc[i] = _mm256_fmadd_ps(vp, load(vs + 8 * i), acc[i]);
    }
    for (int i = 0; i < 2 * C; i++) _mm256_storeu_ps(acc_mem + 8 * i, acc[i]);
}


// attn_block for two query heads over one K/V block, every value computed by the same
// operations in the same order as attn_block computes it for each head alone (products are
// k·q either way; each accumulator sees the same sequence of fused adds). The point is memory:
// each K and V row is read once for both heads, which halves the traffic of a long prefill.
// The value loop goes two vectors of both heads at a time over the block (4 accumulators in
// registers); the block's V rows stay in L1 between those passes.
template <int C, typename T, typename Load>
void attn_block2(const float* q0, const float* q1, const T* k, const T* v, size_t stride, int n, float scl,
                 float* scores, float* m, float* sum, float* acc0, float* acc1, Load load) {
    float* sc0 = scores;
    float* sc1 = scores + n;
    float bmax0 = -INFINITY, bmax1 = -INFINITY;
    for (int s = 0; s < n; s++) {
        const T* ks = k + static_cast<size_t>(s) * stride;
        __m256 a0 = _mm256_setzero_ps(), b0 = _mm256_setzero_ps();
        __m256 a1 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
        for (int c = 0; c < C; c++) {
            const __m256 k0 = load(ks + 16 * c), k1 = load(ks + 16 * c + 8);
            a0 = _mm256_fmadd_ps(k0, _mm256_loadu_ps(q0 + 16 * c), a0);
            b0 = _mm256_fmadd_ps(k1, _mm256_loadu_ps(q0 + 16 * c + 8), b0);
            a1 = _mm256_fmadd_ps(k0, _mm256_loadu_ps(q1 + 16 * c), a1);
            b1 = _mm256_fmadd_ps(k1, _mm256_loadu_ps(q1 + 16 * c + 8), b1);
        }
        const float s0 = hsum(_mm256_add_ps(a0, b0)) * scl;
        const float s1 = hsum(_mm256_add_ps(a1, b1)) * scl;
        sc0[s] = s0;
        sc1[s] = s1;
        bmax0 = bmax0 < s0 ? s0 : bmax0;
        bmax1 = bmax1 < s1 ? s1 : bmax1;
    }
    bool rescale0, rescale1;
    const __m256 corr0 = _mm256_set1_ps(softmax_block(sc0, n, bmax0, &m[0], &sum[0], &rescale0));
    const __m256 corr1 = _mm256_set1_ps(softmax_block(sc1, n, bmax1, &m[1], &sum[1], &rescale1));
    for (int i = 0; i < 2 * C; i += 2) {
        __m256 x0 = _mm256_loadu_ps(acc0 + 8 * i), y0 = _mm256_loadu_ps(acc0 + 8 * i + 8);
        __m256 x1 = _mm256_loadu_ps(acc1 + 8 * i), y1 = _mm256_loadu_ps(acc1 + 8 * i + 8);
        if (rescale0) {
            x0 = _mm256_mul_ps(corr0, x0);
            y0 = _mm256_mul_ps(corr0, y0);
        }
        if (rescale1) {
            x1 = _mm256_mul_ps(corr1, x1);
            y1 = _mm256_mul_ps(corr1, y1);
        }
        for (int s = 0; s < n; s++) {
            const T* vs = v + static_cast<size_t>(s) * stride + 8 * i;
            const __m256 v0 = load(vs), v1 = load(vs + 8);
            const __m256 p0 = _mm256_set1_ps(sc0[s]), p1 = _mm256_set1_ps(sc1[s]);
            x0 = _mm256_fmadd_ps(p0, v0, x0);
            y0 = _mm256_fmadd_ps(p0, v1, y0);
            x1 = _mm256_fmadd_ps(p1, v0, x1);
            y1 = _mm256_fmadd_ps(p1, v1, y1);
        }
        _mm256_storeu_ps(acc0 + 8 * i, x0);
        _mm256_storeu_ps(acc0 + 8 * i + 8, y0);
        _mm256_storeu_ps(acc1 + 8 * i, x1);
        _mm256_storeu_ps(acc1 + 8 * i + 8, y1);
    }
}

template <typename T, typename Load>
bool attn_block2_any(const float* q0, const float* q1, const T* k, const T* v, size_t stride, int n, int hd, float scl,
                     float* scores, float* m, float* sum, float* acc0, float* acc1, Load load) {
    switch (hd) {
        case 16: attn_block2<1>(q0, q1, k, v, stride, n, scl, scores, m, sum, acc0, acc1, load); return true;
        case 32: attn_block2<2>(q0, q1, k, v, stride, n, scl, scores, m, sum, acc0, acc1, load); return true;
        case 64: attn_block2<4>(q0, q1, k, v, stride, n, scl, scores, m, sum, acc0, acc1, load); return true;
        case 128: attn_block2<8>(q0, q1, k, v, stride, n, scl, scores, m, sum, acc0, acc1, load); return true;
        default: return false;
    }
}

bool attn_block2_f32(const float* q0, const float* q1, const float* k, const float* v, size_t stride, int n, int hd,
                     float scl, float* scores, float* m, float* sum, float* acc0, float* acc1) {
    return attn_block2_any(q0, q1, k, v, stride, n, hd, scl, scores, m, sum, acc0, acc1,
                           [](const float* p) { return _mm256_loadu_ps(p); });
}

bool attn_block2_f16(const float* q0, const float* q1, const uint16_t* k, const uint16_t* v, size_t stride, int n,
                     int hd, float scl, float* scores, float* m, float* sum, float* acc0, float* acc1) {
    return attn_block2_any(q0, q1, k, v, stride, n, hd, scl, scores, m, sum, acc0, acc1, load_f16);
}

template <typename T, typename Load>
bool attn_block_any(const float* q, const T* k, const T* v, size_t stride, int n, int hd, float scl, float* scores,
                    float* m, float* sum, float* acc, Load load) {
    switch (hd) {
        case 16: attn_block<1>(q, k, v, stride, n, scl, scores, m, sum, acc, load); return true;
        case 32: attn_block<2>(q, k, v, stride, n, scl, scores, m, sum, acc, load); return true;
        case 64: attn_block<4>(q, k, v, stride, n, scl, scores, m, sum, acc, load); return true;
        case 128: attn_block<8>(q, k, v, stride, n, scl, scores, m, sum, acc, load); return true;
        default: return false;
    }
}

bool attn_block_f32(const float* q, const float* k, const float* v, size_t stride, int n, int hd, float scl,
                    float* scores, float* m, float* sum, float* acc) {
    return attn_block_any(q, k, v, stride, n, hd, scl, scores, m, sum, acc,
                          [](const float* p) { return _mm256_loadu_ps(p); });
}

bool attn_block_f16(const float* q, const uint16_t* k, const uint16_t* v, size_t stride, int n, int hd, float scl,
                    float* scores, float* m, float* sum, float* acc) {
    return attn_block_any(q, k, v, stride, n, hd, scl, scores, m, sum, acc, load_f16);
}

}  // namespace

#if !defined(DYN_AVXVNNI)
void exp_attn_avx2(const float* x, float* y, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) exp8_attn(x + i, 0.0f, y + i);
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
                                   dot4_f32, dot4_f16, dot4_q8_0, dot4_q4_0, axpy_f32, axpy_f16, scale,
                                   attn_block_f32, attn_block_f16, attn_block2_f32, attn_block2_f16,
                                   nullptr, nullptr, nullptr};
    return table;
}
#else
const KernelTable& avx2_kernels() {
    static const KernelTable table{"avx2", dot_f32, dot_f16, dot_bf16, dot_q8_0, dot_q4_0,
                                   quantize_q8_0,
                                   dot4_f32, dot4_f16, dot4_q8_0, dot4_q4_0, axpy_f32, axpy_f16, scale,
                                   attn_block_f32, attn_block_f16, attn_block2_f32, attn_block2_f16,
                                   nullptr, nullptr, nullptr};
    return table;
}
#endif

}  // namespace dyn
