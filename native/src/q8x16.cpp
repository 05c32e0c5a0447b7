#include "q8x16.h"

#include <cmath>
#include <cstring>

namespace dyn {

void q8x16_pack(const uint8_t* src, size_t row_bytes, int64_t rows, int64_t cols, uint8_t* dst) {
    const int64_t nb = cols / 32;
    const size_t scale_bytes = q8x16_scale_bytes(nb);
    const int64_t groups = q8x16_groups(rows);
    std::memset(dst, 0, q8x16_bytes(rows, cols));
    for (int64_t g = 0; g < groups; g++) {
        uint8_t* group = dst + static_cast<size_t>(g) * q8x16_group_bytes(nb);
        auto* scales = reinterpret_cast<uint16_t*>(group);
        uint8_t* quants = group + scale_bytes;
        for (int i = 0; i < kQ8x16Rows; i++) {
            const int64_t r = g * kQ8x16Rows + i;
            const auto* blocks = r < rows ? reinterpret_cast<const BlockQ8_0*>(src + static_cast<size_t>(r) * row_bytes) : nullptr;
            for (int64_t k = 0; k < nb; k++) {
                scales[k * kQ8x16Rows + i] = blocks != nullptr ? blocks[k].d : 0;
                for (int c = 0; c < 8; c++) {
                    uint8_t* lane = quants + static_cast<size_t>(k) * 512 + static_cast<size_t>(c) * 64 + static_cast<size_t>(i) * 4;
                    for (int j = 0; j < 4; j++) {
                        // A pad row is all zero weights, +128 like the rest, so it adds nothing.
                        const int8_t w = blocks != nullptr ? blocks[k].qs[4 * c + j] : 0;
                        lane[j] = static_cast<uint8_t>(w + 128);
                    }
                }
            }
        }
    }
}

void q8x16_prepare(const BlockQ8_0A* x, int64_t T, int64_t nb, ActQ8x* out) {
    for (int64_t i = 0; i < T * nb; i++) {
        std::memcpy(out[i].qs, x[i].qs, 32);
        out[i].d = x[i].d;
        int32_t sum = 0;
        for (int j = 0; j < 32; j++) sum += x[i].qs[j];
        out[i].corr = -128 * sum;
    }
}

void q8x16_gemm_ref(const uint8_t* w, int64_t nb, int64_t r0, int64_t r1, const ActQ8x* x, int64_t T, float* y,
                    int64_t ldy, bool accumulate) {
    const size_t scale_bytes = q8x16_scale_bytes(nb);
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t* group = w + static_cast<size_t>(r / kQ8x16Rows) * q8x16_group_bytes(nb);
        const auto* scales = reinterpret_cast<const uint16_t*>(group);
        const uint8_t* quants = group + scale_bytes;
        const int i = static_cast<int>(r % kQ8x16Rows);
        for (int64_t t = 0; t < T; t++) {
            float acc = 0.0f;
            for (int64_t k = 0; k < nb; k++) {
                const ActQ8x& a = x[t * nb + k];
                int32_t s = a.corr;
                for (int c = 0; c < 8; c++) {
                    const uint8_t* lane = quants + static_cast<size_t>(k) * 512 + static_cast<size_t>(c) * 64 + static_cast<size_t>(i) * 4;
                    for (int j = 0; j < 4; j++) s += static_cast<int32_t>(lane[j]) * a.qs[4 * c + j];
                }
                const float d = fp16_to_fp32(scales[k * kQ8x16Rows + i]) * a.d;
                acc = std::fma(d, static_cast<float>(s), acc);
            }
            float& out = y[t * ldy + r];
            out = accumulate ? out + acc : acc;
        }
    }
}

}  // namespace dyn
