// Tensor type geometry and scalar row dequantization (ggml block layouts).
// Used for embedding lookups, small vectors loaded at start-up and the generic
// matmul path of types without a dedicated dot-product kernel.
#include "quants.h"

namespace dyn {

TypeGeometry type_geometry(uint32_t type) {
    switch (type) {
        case GGML_F32: return {1, 4};
        case GGML_F16: return {1, 2};
        case GGML_BF16: return {1, 2};
        case GGML_F64: return {1, 8};
        case GGML_I8: return {1, 1};
        case GGML_I16: return {1, 2};
        case GGML_I32: return {1, 4};
        case GGML_I64: return {1, 8};
        case GGML_Q4_0: return {32, 18};
        case GGML_Q4_1: return {32, 20};
        case GGML_Q5_0: return {32, 22};
        case GGML_Q5_1: return {32, 24};
        case GGML_Q8_0: return {32, 34};
        case GGML_Q8_1: return {32, 36};
        case GGML_Q2_K: return {256, 84};
        case GGML_Q3_K: return {256, 110};
        case GGML_Q4_K: return {256, 144};
        case GGML_Q5_K: return {256, 176};
        case GGML_Q6_K: return {256, 210};
        case GGML_Q8_K: return {256, 292};
        default: return {0, 0};
    }
}

std::string type_name(uint32_t type) {
    switch (type) {
        case GGML_F32: return "F32";
        case GGML_F16: return "F16";
        case GGML_BF16: return "BF16";
        case GGML_F64: return "F64";
        case GGML_I8: return "I8";
        case GGML_I16: return "I16";
        case GGML_I32: return "I32";
        case GGML_I64: return "I64";
        case GGML_Q4_0: return "Q4_0";
        case GGML_Q4_1: return "Q4_1";
        case GGML_Q5_0: return "Q5_0";
        case GGML_Q5_1: return "Q5_1";
        case GGML_Q8_0: return "Q8_0";
        case GGML_Q8_1: return "Q8_1";
        case GGML_Q2_K: return "Q2_K";
        case GGML_Q3_K: return "Q3_K";
        case GGML_Q4_K: return "Q4_K";
        case GGML_Q5_K: return "Q5_K";
        case GGML_Q6_K: return "Q6_K";
        case GGML_Q8_K: return "Q8_K";
        default: return "type#" + std::to_string(type);
    }
}

bool type_supported_for_compute(uint32_t type) {
    switch (type) {
        case GGML_F32: case GGML_F16: case GGML_BF16: case GGML_Q8_0: case GGML_Q4_0:
        case GGML_Q4_1: case GGML_Q5_0: case GGML_Q5_1: case GGML_Q4_K: case GGML_Q5_K: case GGML_Q6_K:
            return true;
        default:
            return false;
    }
}

namespace {

float h(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return fp16_to_fp32(v);
}

void scale_min_k4(int j, const uint8_t* q, uint8_t& d, uint8_t& m) {
    if (j < 4) {
        d = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

void dq_q4_0(const uint8_t* b, float* y) {
    const float d = h(b);
    const uint8_t* qs = b + 2;
    for (int j = 0; j < 16; j++) {
        y[j] = static_cast<float>((qs[j] & 0xF) - 8) * d;
        y[j + 16] = static_cast<float>((qs[j] >> 4) - 8) * d;
    }
}

void dq_q4_1(const uint8_t* b, float* y) {
    const float d = h(b), m = h(b + 2);
    const uint8_t* qs = b + 4;
    for (int j = 0; j < 16; j++) {
        y[j] = static_cast<float>(qs[j] & 0xF) * d + m;
        y[j + 16] = static_cast<float>(qs[j] >> 4) * d + m;
    }
}

void dq_q5(const uint8_t* b, float* y, bool with_min) {
    const float d = h(b);
    const float m = with_min ? h(b + 2) : 0.0f;
    const uint8_t* p = b + (with_min ? 4 : 2);
    uint32_t qh;
    std::memcpy(&qh, p, 4);
    const uint8_t* qs = p + 4;
    const int offset = with_min ? 0 : 16;
    for (int j = 0; j < 16; j++) {
        const int xh0 = static_cast<int>(((qh >> j) << 4) & 0x10);
        const int xh1 = static_cast<int>((qh >> (j + 12)) & 0x10);
        y[j] = static_cast<float>(((qs[j] & 0x0F) | xh0) - offset) * d + m;
        y[j + 16] = static_cast<float>(((qs[j] >> 4) | xh1) - offset) * d + m;
    }
}

void dq_q8_0(const uint8_t* b, float* y) {
    const float d = h(b);
    const auto* qs = reinterpret_cast<const int8_t*>(b + 2);
    for (int j = 0; j < 32; j++) {
        y[j] = static_cast<float>(qs[j]) * d;
    }
}

void dq_q4_k(const uint8_t* b, float* y) {
    const float d = h(b), dmin = h(b + 2);
    const uint8_t* scales = b + 4;
    const uint8_t* q = b + 16;
    int is = 0;
    for (int j = 0; j < 256; j += 64) {
        uint8_t sc, m;
        scale_min_k4(is, scales, sc, m);
        const float d1 = d * sc, m1 = dmin * m;
        scale_min_k4(is + 1, scales, sc, m);
        const float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; l++) y[l] = d1 * static_cast<float>(q[l] & 0xF) - m1;
        for (int l = 0; l < 32; l++) y[32 + l] = d2 * static_cast<float>(q[l] >> 4) - m2;
        y += 64;
        q += 32;
        is += 2;
    }
}

void dq_q5_k(const uint8_t* b, float* y) {
    const float d = h(b), dmin = h(b + 2);
    const uint8_t* scales = b + 4;
    const uint8_t* qh = b + 16;
    const uint8_t* ql = b + 48;
    int is = 0;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < 256; j += 64) {
        uint8_t sc, m;
        scale_min_k4(is, scales, sc, m);
        const float d1 = d * sc, m1 = dmin * m;
        scale_min_k4(is + 1, scales, sc, m);
        const float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; l++) y[l] = d1 * static_cast<float>((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
        for (int l = 0; l < 32; l++) y[32 + l] = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
        y += 64;
        ql += 32;
        is += 2;
        u1 = static_cast<uint8_t>(u1 << 2);
        u2 = static_cast<uint8_t>(u2 << 2);
    }
}

void dq_q6_k(const uint8_t* b, float* y) {
    const uint8_t* ql = b;
    const uint8_t* qh = b + 128;
    const auto* sc = reinterpret_cast<const int8_t*>(b + 192);
    const float d = h(b + 208);
    for (int n = 0; n < 256; n += 128) {
        for (int l = 0; l < 32; l++) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * sc[is + 0] * static_cast<float>(q1);
            y[l + 32] = d * sc[is + 2] * static_cast<float>(q2);
            y[l + 64] = d * sc[is + 4] * static_cast<float>(q3);
            y[l + 96] = d * sc[is + 6] * static_cast<float>(q4);
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

}  // namespace

void dequantize_row(uint32_t type, const uint8_t* src, float* dst, int64_t n) {
    switch (type) {
        case GGML_F32:
            std::memcpy(dst, src, static_cast<size_t>(n) * 4);
            return;
        case GGML_F16:
            for (int64_t i = 0; i < n; i++) dst[i] = h(src + 2 * i);
            return;
        case GGML_BF16:
            for (int64_t i = 0; i < n; i++) {
                uint16_t v;
                std::memcpy(&v, src + 2 * i, 2);
                dst[i] = bf16_to_fp32(v);
            }
            return;
        default:
            break;
    }
    const TypeGeometry g = type_geometry(type);
    const int64_t nb = n / g.block_elems;
    for (int64_t k = 0; k < nb; k++) {
        const uint8_t* b = src + k * g.block_bytes;
        float* y = dst + k * g.block_elems;
        switch (type) {
            case GGML_Q4_0: dq_q4_0(b, y); break;
            case GGML_Q4_1: dq_q4_1(b, y); break;
            case GGML_Q5_0: dq_q5(b, y, false); break;
            case GGML_Q5_1: dq_q5(b, y, true); break;
            case GGML_Q8_0: dq_q8_0(b, y); break;
            case GGML_Q4_K: dq_q4_k(b, y); break;
            case GGML_Q5_K: dq_q5_k(b, y); break;
            case GGML_Q6_K: dq_q6_k(b, y); break;
            default: fail(DYN_ERR_UNSUPPORTED, "cannot dequantize tensor type " + type_name(type));
        }
    }
}

}  // namespace dyn
