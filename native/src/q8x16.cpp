#include "q8x16.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

namespace dyn {

namespace {

void pack_groups(const uint8_t* src, size_t row_bytes, int64_t rows, int64_t nb, int64_t g0, int64_t g1, uint8_t* dst) {
    const size_t scale_bytes = q8x16_scale_bytes(nb);
    for (int64_t g = g0; g < g1; g++) {
        uint8_t* group = dst + static_cast<size_t>(g) * q8x16_group_bytes(nb);
        std::memset(group, 0, scale_bytes);
        auto* scales = reinterpret_cast<uint16_t*>(group);
        uint8_t* quants = group + scale_bytes;
        const BlockQ8_0* blocks[kQ8x16Rows];
        for (int i = 0; i < kQ8x16Rows; i++) {
            const int64_t r = g * kQ8x16Rows + i;
            blocks[i] = r < rows ? reinterpret_cast<const BlockQ8_0*>(src + static_cast<size_t>(r) * row_bytes) : nullptr;
        }
        // Written in order; w + 128 (mod 256) of a two's-complement byte is w ^ 0x80, four at a time.
        uint8_t* out = quants;
        for (int64_t k = 0; k < nb; k++) {
            for (int i = 0; i < kQ8x16Rows; i++) scales[k * kQ8x16Rows + i] = blocks[i] != nullptr ? blocks[i][k].d : 0;
            for (int c = 0; c < 8; c++) {
                for (int i = 0; i < kQ8x16Rows; i++, out += 4) {
                    // A pad row is all zero weights, +128 like the rest, so it adds nothing.
                    uint32_t v = 0;
                    if (blocks[i] != nullptr) std::memcpy(&v, blocks[i][k].qs + 4 * c, 4);
                    v ^= 0x80808080u;
                    std::memcpy(out, &v, 4);
                }
            }
        }
    }
}

}  // namespace

void q8x16_pack(const uint8_t* src, size_t row_bytes, int64_t rows, int64_t cols, uint8_t* dst, int threads) {
    const int64_t nb = cols / 32;
    const int64_t groups = q8x16_groups(rows);
    const int64_t n = std::clamp<int64_t>(threads, 1, groups);
    if (n == 1) {
        pack_groups(src, row_bytes, rows, nb, 0, groups, dst);
        return;
    }
    std::vector<std::thread> workers;
    for (int64_t t = 0; t < n; t++) {
        workers.emplace_back(pack_groups, src, row_bytes, rows, nb, groups * t / n, groups * (t + 1) / n, dst);
    }
    for (std::thread& w : workers) w.join();
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
