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
    // The same values as the q8x16 kernels' operand (ActQ8x, capacity rows * cols / 32 blocks);
    // built only for q8x16 weights.
    uint8_t* q8x = nullptr;
    bool q8x_ready = false;

    void reset(const float* data, int64_t n_rows, int64_t n_cols) {
        x = data;
        rows = n_rows;
        cols = n_cols;
        q8_ready = false;
        q8x_ready = false;
    }
};

// One product of a fused matmul: Y = X · Wᵀ into y (row stride ldy), added to y when accumulate.
struct MatmulJob {
    const Mat* w;
    float* y;
    int64_t ldy;
    bool accumulate;
};

// Builds the activations' quantized copy that products with w read (a no-op for float weights
// or when it is built already); matmul() does it itself, this only lets a caller time it apart.
void prepare_activations(ThreadPool& pool, const Mat& w, Activations& act);

// deq_scratch holds pool.size() rows of at least W.cols floats (generic path).
void matmul(ThreadPool& pool, const Mat& w, Activations& act, float* y, int64_t ldy, bool accumulate,
            float* deq_scratch, int64_t deq_stride);

// Several products over the same activations (q, k, v; gate, up) in one parallel region: the
// weight rows of all jobs are split across the threads as one range, so a decode step wakes
// the pool once instead of once per matrix. Every output element is computed exactly as
// matmul() computes it.
void matmul_fused(ThreadPool& pool, const MatmulJob* jobs, int n_jobs, Activations& act, float* deq_scratch,
                  int64_t deq_stride);

}  // namespace dyn
