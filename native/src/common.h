// Shared definitions: the internal error type, half-precision conversions and
// ggml tensor type geometry.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "dynamo_engine.h"

namespace dyn {

// Thrown inside the engine and turned into a status code at the C boundary (api.cpp).
class Error : public std::runtime_error {
public:
    Error(dyn_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    dyn_status status() const { return status_; }

private:
    dyn_status status_;
};

[[noreturn]] inline void fail(dyn_status status, const std::string& message) { throw Error(status, message); }

inline uint32_t f32_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

inline float bits_f32(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

inline float fp16_to_fp32(uint16_t h) {
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
        // Zero or subnormal: mant * 2^-24.
        const float f = static_cast<float>(mant) * (1.0f / 16777216.0f);
        return sign ? -f : f;
    }
    if (exp == 31) {
        return bits_f32(sign | 0x7f800000u | (mant << 13));
    }
    return bits_f32(sign | ((exp + 112u) << 23) | (mant << 13));
}

// Round-to-nearest-even, the same rounding as F16C's vcvtps2ph and .NET's (Half) cast.
inline uint16_t fp32_to_fp16(float value) {
    const uint32_t f32infty = 255u << 23;
    const uint32_t f16max = (127u + 16u) << 23;
    const uint32_t denorm_magic_bits = ((127u - 15u) + (23u - 10u) + 1u) << 23;
    uint32_t f = f32_bits(value);
    const uint32_t sign = f & 0x80000000u;
    f ^= sign;
    uint16_t o;
    if (f >= f16max) {
        o = f > f32infty ? 0x7e00 : 0x7c00;
    } else if (f < (113u << 23)) {
        const float t = bits_f32(f) + bits_f32(denorm_magic_bits);
        o = static_cast<uint16_t>(f32_bits(t) - denorm_magic_bits);
    } else {
        const uint32_t mant_odd = (f >> 13) & 1u;
        f += (static_cast<uint32_t>(15 - 127) << 23) + 0xfffu;
        f += mant_odd;
        o = static_cast<uint16_t>(f >> 13);
    }
    return static_cast<uint16_t>(o | (sign >> 16));
}

inline float bf16_to_fp32(uint16_t h) { return bits_f32(static_cast<uint32_t>(h) << 16); }

// ggml_type numbering as stored in GGUF files.
enum GgmlType : uint32_t {
    GGML_F32 = 0,
    GGML_F16 = 1,
    GGML_Q4_0 = 2,
    GGML_Q4_1 = 3,
    GGML_Q5_0 = 6,
    GGML_Q5_1 = 7,
    GGML_Q8_0 = 8,
    GGML_Q8_1 = 9,
    GGML_Q2_K = 10,
    GGML_Q3_K = 11,
    GGML_Q4_K = 12,
    GGML_Q5_K = 13,
    GGML_Q6_K = 14,
    GGML_Q8_K = 15,
    GGML_I8 = 24,
    GGML_I16 = 25,
    GGML_I32 = 26,
    GGML_I64 = 27,
    GGML_F64 = 28,
    GGML_BF16 = 30,
};

struct TypeGeometry {
    int block_elems;  // 0 when the type is unknown to this engine
    int block_bytes;
};

TypeGeometry type_geometry(uint32_t type);
std::string type_name(uint32_t type);
// Types whose rows the matmul and embedding lookup can consume.
bool type_supported_for_compute(uint32_t type);

struct BlockQ8_0 {
    uint16_t d;
    int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 block must be 34 bytes");

// Quantized activations: Q8_0 values with the (half-rounded) scale kept as a float, so
// inner loops multiply by it directly instead of converting a half per block and row.
struct BlockQ8_0A {
    float d;
    int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0A) == 36, "activation Q8_0 block must be 36 bytes");

struct BlockQ4_0 {
    uint16_t d;
    uint8_t qs[16];
};
static_assert(sizeof(BlockQ4_0) == 18, "Q4_0 block must be 18 bytes");


}  // namespace dyn
