// exp for the attention softmax, defined by a fixed sequence of correctly rounded operations
// (multiply, round to nearest, fused multiply-adds, a power-of-two scale) so that this scalar
// version and the 8-lane one in kernels_avx2.cpp (exp8_attn) give the same bits for every
// input. std::exp is a library call per score, which in prefill cost more than the dot products
// around it, and it has no vector twin with identical results.
//
// Accuracy: Cody-Waite reduction by ln 2 and the Cephes expf polynomial, within 2 ulp of exp
// for x in [-87, 88]; below -87 (including -inf) the result is 0, above 88 it is exp(88);
// NaN stays NaN. The softmax only ever passes x <= 0.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace dyn {

namespace expc {
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;     // ln 2 split so that n · kLn2Hi is exact
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kMin = -87.0f;
constexpr float kMax = 88.0f;
constexpr float kP0 = 1.9875691500e-4f;
constexpr float kP1 = 1.3981999507e-3f;
constexpr float kP2 = 8.3334519073e-3f;
constexpr float kP3 = 4.1665795894e-2f;
constexpr float kP4 = 1.6666665459e-1f;
constexpr float kP5 = 5.0000001201e-1f;
}  // namespace expc

inline float exp_attn(float x) {
    using namespace expc;
    if (x != x) {
        return x;
    }
    if (x < kMin) {
        return 0.0f;
    }
    if (x > kMax) {
        x = kMax;
    }
    const float n = std::nearbyint(x * kLog2e);
    float r = std::fma(n, -kLn2Hi, x);
    r = std::fma(n, -kLn2Lo, r);
    float p = kP0;
    p = std::fma(p, r, kP1);
    p = std::fma(p, r, kP2);
    p = std::fma(p, r, kP3);
    p = std::fma(p, r, kP4);
    p = std::fma(p, r, kP5);
    float y = std::fma(p, r * r, r);
    y = y + 1.0f;
    const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof(scale));
    return y * scale;
}

}  // namespace dyn
