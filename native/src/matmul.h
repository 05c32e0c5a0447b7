// Y = X · Wᵀ over a batch of activation rows, split across the pool by weight
// rows. Quantized weights are consumed block by block (never dequantized as a
// whole matrix); Q8_0/Q4_0 use Q8_0-quantized activations as llama.cpp does
// (same values and half-rounded scales; the scale is stored as a float).
#pragma once

#include <cstdint>

#include "model.h"
#include "threadpool.h"

namespace dyn {

// Activation rows plus their lazily built Q8_0 copy, shared by every matmul
// that reads the same rows (q, k, v; gate, up).
struct Activations {
    const float* x = nullptr;
    int64_t rows = 0;
    int64_t cols = 0;
    uint8_t* q8 = nullptr;   // capacity: rows * cols / 32 blocks of BlockQ8_0A
    bool q8_ready = false;

    void reset(const float* data, int64_t n_rows, int64_t n_cols) {
        x = data;
        rows = n_rows;
        cols = n_cols;
        q8_ready = false;
    }
};

// deq_scratch holds pool.size() rows of at least W.cols floats (generic path).
void matmul(ThreadPool& pool, const Mat& w, Activations& act, float* y, int64_t ldy, bool accumulate,
            float* deq_scratch, int64_t deq_stride);

}  // namespace dyn
