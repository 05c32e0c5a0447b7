// exp for the attention softmax, defined by a fixed sequence of correctly rounded operations so
// that this scalar version and the 4-lane one in kernels_avx2.cpp (exp4_attn) give the same bits
// for every input. std::exp is a library call per score, which in prefill cost more than the dot
// products around it, and it has no vector twin with identical results.
//
// The value is computed in double (Cody-Waite reduction by ln 2, degree-12 Taylor polynomial for
// exp(r), |r| <= 0.35: relative error below 1e-15) and rounded once to float, so it is the
// correctly rounded exp(x) unless exp(x) lies within about 1e-7 ulp of a rounding midpoint.
// glibc's expf is within 0.502 ulp; on 32M sampled inputs in [-87, 88] the two differ on 2759
// (8.6e-5 of them, by 1 ulp; in the two cases checked by hand the exact value lay ~1e-6 ulp
// from a midpoint and glibc's result was the misrounded one). On the default model's bench (1 and 2 threads, decode batch 1/8/32 and a
// 512-token prefill) every logit stayed bit for bit what the std::exp build gave. Inputs outside
// [kMin, kMax] (results subnormal, zero or overflowing, NaN) go to std::exp itself.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace dyn {

namespace expc {
constexpr float kMin = -87.0f;
constexpr float kMax = 88.0f;
constexpr double kInvLn2 = 1.4426950408889634;
constexpr double kLn2Hi = 0.6931471803691238;      // ln 2 with the low 27 bits cleared: n · kLn2Hi is exact
constexpr double kLn2Lo = 1.9082149292705877e-10;  // ln 2 − kLn2Hi
constexpr int kDegree = 12;
// 1/k! for k = kDegree..0 (Horner order).
constexpr double kCoef[kDegree + 1] = {
    1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0,
    1.0 / 120.0,       1.0 / 24.0,       1.0 / 6.0,       1.0 / 2.0,      1.0,          1.0};
}  // namespace expc

inline float exp_attn(float x) {
    using namespace expc;
    if (!(x >= kMin && x <= kMax)) {
        return std::exp(x);
    }
    const double xd = static_cast<double>(x);
    const double n = std::nearbyint(xd * kInvLn2);
    double r = std::fma(-n, kLn2Hi, xd);
    r = std::fma(-n, kLn2Lo, r);
    double p = kCoef[0];
    for (int k = 1; k <= kDegree; k++) p = std::fma(p, r, kCoef[k]);
    const uint64_t bits = static_cast<uint64_t>(static_cast<int64_t>(n) + 1023) << 52;
    double scale;
    std::memcpy(&scale, &bits, sizeof(scale));
    return static_cast<float>(p * scale);
}

}  // namespace dyn
