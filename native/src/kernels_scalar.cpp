// Portable reference kernels; also the fallback on CPUs without AVX2.
#include <cmath>

#include "common.h"
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

void axpy_f32(float a, const float* x, float* y, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

void axpy_f16(float a, const uint16_t* x, float* y, int n) {
    for (int i = 0; i < n; i++) y[i] += a * fp16_to_fp32(x[i]);
}

void scale(float* y, float a, int n) {
    for (int i = 0; i < n; i++) y[i] *= a;
}

}  // namespace

const KernelTable& scalar_kernels() {
    static const KernelTable table{"scalar", dot_f32, dot_f16, dot_bf16, dot_q8_0, dot_q4_0,
                                   quantize_q8_0,
                                   dot4<float, float, dot_f32>, dot4<uint16_t, float, dot_f16>,
                                   dot4<void, void, dot_q8_0>, dot4<void, void, dot_q4_0>,
                                   axpy_f32, axpy_f16, scale, nullptr, nullptr, nullptr, nullptr,
                                   nullptr, nullptr, nullptr};
    return table;
}

}  // namespace dyn
