// Portable reference kernels; also the fallback on CPUs without AVX2.
#include <cmath>

#include "common.h"
#include "fast_exp.h"
#include "kernels.h"

namespace dyn {

namespace {

float dot_f32(const float* a, const float* b, int n) {
    float s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

float dot_f16(const uint16_t* w, const float* x, int n) {
    float s = 0;
    for (int i = 0; i < n; i++) s += fp16_to_fp32(w[i]) * x[i];
    return s;
}

float dot_bf16(const uint16_t* w, const float* x, int n) {
    float s = 0;
    for (int i = 0; i < n; i++) s += bf16_to_fp32(w[i]) * x[i];
    return s;
}

float dot_q8_0(const void* w, const void* x, int n) {
    const auto* a = static_cast<const BlockQ8_0*>(w);
    const auto* b = static_cast<const BlockQ8_0A*>(x);
    float s = 0;
    for (int k = 0; k < n / 32; k++) {
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += a[k].qs[j] * b[k].qs[j];
        s += static_cast<float>(sum) * fp16_to_fp32(a[k].d) * b[k].d;
    }
    return s;
}

float dot_q4_0(const void* w, const void* x, int n) {
    const auto* a = static_cast<const BlockQ4_0*>(w);
    const auto* b = static_cast<const BlockQ8_0A*>(x);
    float s = 0;
    for (int k = 0; k < n / 32; k++) {
        int sum = 0;
        for (int j = 0; j < 16; j++) {
            sum += ((a[k].qs[j] & 0xF) - 8) * b[k].qs[j];
            sum += ((a[k].qs[j] >> 4) - 8) * b[k].qs[j + 16];
        }
        s += static_cast<float>(sum) * fp16_to_fp32(a[k].d) * b[k].d;
    }
    return s;
}

void quantize_q8_0(const float* x, void* y, int n) {
    auto* out = static_cast<BlockQ8_0A*>(y);
    for (int k = 0; k < n / 32; k++) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = std::fmax(amax, std::fabs(x[k * 32 + j]));
        const float d = amax / 127.0f;
        // Same formula and round-half-even as the AVX2 path, so both quantize identically.
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        out[k].d = fp16_to_fp32(fp32_to_fp16(d));
        for (int j = 0; j < 32; j++) {
            out[k].qs[j] = static_cast<int8_t>(std::nearbyint(x[k * 32 + j] * id));
        }
    }
}

template <typename W, typename X, float (*Dot)(const W*, const X*, int)>
void dot4(const W* w, const X* x, size_t x_stride, int n, float* out) {
    for (int r = 0; r < 4; r++) {
        out[r] = Dot(w, reinterpret_cast<const X*>(reinterpret_cast<const uint8_t*>(x) + r * x_stride), n);
    }
}

// The attention arithmetic that kernels.h defines for attn_rows, one row and one value at a time:
// the reference the AVX2 kernel reproduces in vector lanes.
template <typename T, typename ToFloat>
void attn_rows(const float* const* q, int rows, const T* k, const T* v, size_t stride, const int* n, int hd,
               float scale, float* scores, float* m, float* sum, float* acc, ToFloat to_float) {
    for (int r = 0; r < rows; r++) {
        const float* qr = q[r];
        float* p = scores + static_cast<size_t>(r) * kAttnUnit;
        const int nr = n[r];
        float bmax = -INFINITY;
        for (int j = 0; j < nr; j++) {
            const T* kj = k + static_cast<size_t>(j) * stride;
            float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            for (int d = 0; d < hd; d++) lane[d % 8] = std::fma(qr[d], to_float(kj[d]), lane[d % 8]);
            const float dot = ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
            p[j] = dot * scale;
            bmax = bmax < p[j] ? p[j] : bmax;
        }
        float* a = acc + static_cast<size_t>(r) * hd;
        if (bmax > m[r]) {
            const float corr = exp_attn(m[r] - bmax);
            sum[r] *= corr;
            for (int d = 0; d < hd; d++) a[d] *= corr;
            m[r] = bmax;
        }
        for (int j = 0; j < kAttnUnit; j++) p[j] = j < nr ? exp_attn(p[j] - m[r]) : 0.0f;
        float x[8], y[4];
        for (int i = 0; i < 8; i++) x[i] = p[i] + p[i + 8];
        for (int i = 0; i < 4; i++) y[i] = x[i] + x[i + 4];
        sum[r] += (y[0] + y[1]) + (y[2] + y[3]);
        for (int j = 0; j < nr; j++) {
            const T* vj = v + static_cast<size_t>(j) * stride;
            for (int d = 0; d < hd; d++) a[d] = std::fma(p[j], to_float(vj[d]), a[d]);
        }
    }
}

void attn_rows_f32(const float* const* q, int rows, const float* k, const float* v, size_t stride, const int* n, int hd,
                   float scale, float* scores, float* m, float* sum, float* acc) {
    attn_rows(q, rows, k, v, stride, n, hd, scale, scores, m, sum, acc, [](float x) { return x; });
}

void attn_rows_f16(const float* const* q, int rows, const uint16_t* k, const uint16_t* v, size_t stride, const int* n,
                   int hd, float scale, float* scores, float* m, float* sum, float* acc) {
    attn_rows(q, rows, k, v, stride, n, hd, scale, scores, m, sum, acc, fp16_to_fp32);
}

}  // namespace

const KernelTable& scalar_kernels() {
    static const KernelTable table{"scalar", dot_f32, dot_f16, dot_bf16, dot_q8_0, dot_q4_0,
                                   quantize_q8_0,
                                   dot4<float, float, dot_f32>, dot4<uint16_t, float, dot_f16>,
                                   dot4<void, void, dot_q8_0>, dot4<void, void, dot_q4_0>,
                                   attn_rows_f32, attn_rows_f16,
                                   nullptr, nullptr, nullptr};
    return table;
}

}  // namespace dyn
