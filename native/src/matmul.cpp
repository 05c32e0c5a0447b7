#include "matmul.h"

#include <algorithm>

#include "common.h"
#include "kernels.h"
#include "q8x16.h"
#include "quants.h"

namespace dyn {

namespace {

// Weight rows per tile: a tile stays in L1/L2 while every activation row passes over it.
constexpr int64_t kRowTile = 16;
static_assert(kRowTile % kQ8x16Rows == 0, "a row tile must be whole q8x16 groups");

// dot(r, t) is one weight row against one activation row; dot4(r, t, out) against rows t..t+3.
template <typename Dot, typename Dot4>
void tiled(int64_t r0, int64_t r1, int64_t rows, float* y, int64_t ldy, bool accumulate, Dot dot, Dot4 dot4) {
    float four[4];
    for (int64_t rt = r0; rt < r1; rt += kRowTile) {
        const int64_t re = std::min(rt + kRowTile, r1);
        int64_t t = 0;
        for (; t + 4 <= rows; t += 4) {
            for (int64_t r = rt; r < re; r++) {
                dot4(r, t, four);
                for (int j = 0; j < 4; j++) {
                    float& out = y[(t + j) * ldy + r];
                    out = accumulate ? out + four[j] : four[j];
                }
            }
        }
        for (; t < rows; t++) {
            float* yt = y + t * ldy;
            for (int64_t r = rt; r < re; r++) {
                const float v = dot(r, t);
                yt[r] = accumulate ? yt[r] + v : v;
            }
        }
    }
}

// Up to this many activation elements are quantized without waking the pool.
constexpr int64_t kSerialQuantize = 8192;

// Rows [r0, r1) of one product; row is this thread's dequantization scratch.
void matmul_rows(const Mat& w, const Activations& act, float* y, int64_t ldy, bool accumulate, int64_t r0, int64_t r1,
                 float* row) {
    const KernelTable& k = kernels();
    const int64_t K = w.cols;
    const int n = static_cast<int>(K);
    const int64_t T = act.rows;
    const size_t q8_row = static_cast<size_t>(K / 32) * sizeof(BlockQ8_0A);
    const float* x = act.x;
    const size_t x_stride = static_cast<size_t>(K) * sizeof(float);
    switch (w.type) {
        case GGML_F32:
            if (k.gemm_f32 != nullptr && K % 16 == 0) {
                k.gemm_f32(w.row(r0), w.row_bytes, r1 - r0, x, T, n, y + r0, ldy, accumulate);
                return;
            }
            tiled(r0, r1, T, y, ldy, accumulate,
                  [&](int64_t r, int64_t t) {
                      return k.dot_f32(reinterpret_cast<const float*>(w.row(r)), x + t * K, n);
                  },
                  [&](int64_t r, int64_t t, float* out) {
                      k.dot4_f32(reinterpret_cast<const float*>(w.row(r)), x + t * K, x_stride, n, out);
                  });
            return;
        case GGML_F16:
            if (k.gemm_f16 != nullptr && K % 16 == 0) {
                k.gemm_f16(w.row(r0), w.row_bytes, r1 - r0, x, T, n, y + r0, ldy, accumulate);
                return;
            }
            tiled(r0, r1, T, y, ldy, accumulate,
                  [&](int64_t r, int64_t t) {
                      return k.dot_f16(reinterpret_cast<const uint16_t*>(w.row(r)), x + t * K, n);
                  },
                  [&](int64_t r, int64_t t, float* out) {
                      k.dot4_f16(reinterpret_cast<const uint16_t*>(w.row(r)), x + t * K, x_stride, n, out);
                  });
            return;
        case GGML_BF16:
            tiled(r0, r1, T, y, ldy, accumulate,
                  [&](int64_t r, int64_t t) {
                      return k.dot_bf16(reinterpret_cast<const uint16_t*>(w.row(r)), x + t * K, n);
                  },
                  [&](int64_t r, int64_t t, float* out) {
                      for (int j = 0; j < 4; j++) {
                          out[j] = k.dot_bf16(reinterpret_cast<const uint16_t*>(w.row(r)), x + (t + j) * K, n);
                      }
                  });
            return;
        case GGML_Q8_0:
            if (w.q8x16) {
                // Forced scalar kernels (tests) still meet repacked weights: same order, plain code.
                if (k.gemm_q8_0 != nullptr) {
                    k.gemm_q8_0(w.data, K / 32, w.rows, r0, r1, act.q8x, T, y, ldy, accumulate);
                } else {
                    q8x16_gemm_ref(w.data, K / 32, r0, r1, reinterpret_cast<const ActQ8x*>(act.q8x), T, y, ldy,
                                   accumulate);
                }
                return;
            }
            tiled(r0, r1, T, y, ldy, accumulate,
                  [&](int64_t r, int64_t t) {
                      return k.dot_q8_0(w.row(r), act.q8 + static_cast<size_t>(t) * q8_row, n);
                  },
                  [&](int64_t r, int64_t t, float* out) {
                      k.dot4_q8_0(w.row(r), act.q8 + static_cast<size_t>(t) * q8_row, q8_row, n, out);
                  });
            return;
        case GGML_Q4_0:
            tiled(r0, r1, T, y, ldy, accumulate,
                  [&](int64_t r, int64_t t) {
                      return k.dot_q4_0(w.row(r), act.q8 + static_cast<size_t>(t) * q8_row, n);
                  },
                  [&](int64_t r, int64_t t, float* out) {
                      k.dot4_q4_0(w.row(r), act.q8 + static_cast<size_t>(t) * q8_row, q8_row, n, out);
                  });
            return;
        default: {
            // Types without a fused kernel: dequantize one row at a time into
            // this thread's scratch, then reuse it for every activation row.
            for (int64_t r = r0; r < r1; r++) {
                dequantize_row(w.type, w.row(r), row, K);
                for (int64_t t = 0; t < T; t++) {
                    const float v = k.dot_f32(row, x + t * K, n);
                    y[t * ldy + r] = accumulate ? y[t * ldy + r] + v : v;
                }
            }
            return;
        }
    }
}

// Q8_0 copies of the activation rows for Q8_0/Q4_0 weights; a few rows are quantized on the
// calling thread, which is cheaper than waking the pool.
void ensure_q8(ThreadPool& pool, Activations& act) {
    if (act.q8_ready) {
        return;
    }
    const KernelTable& k = kernels();
    const int64_t K = act.cols;
    const int64_t T = act.rows;
    const int n = static_cast<int>(K);
    const size_t q8_row = static_cast<size_t>(K / 32) * sizeof(BlockQ8_0A);
    auto quantize = [&](int ith, int nth) {
        int64_t b, e;
        split_range(T, ith, nth, b, e);
        for (int64_t t = b; t < e; t++) {
            k.quantize_q8_0(act.x + t * K, act.q8 + static_cast<size_t>(t) * q8_row, n);
        }
    };
    if (T * K <= kSerialQuantize) {
        quantize(0, 1);
    } else {
        pool.run(quantize);
    }
    act.q8_ready = true;
}

// The q8x16 kernels' operand: the Q8_0 copy plus each block's -128 · Σ quants.
void ensure_q8x(ThreadPool& pool, Activations& act) {
    if (act.q8x_ready) {
        return;
    }
    ensure_q8(pool, act);
    const int64_t nb = act.cols / 32;
    const auto* q8 = reinterpret_cast<const BlockQ8_0A*>(act.q8);
    auto* out = reinterpret_cast<ActQ8x*>(act.q8x);
    auto prepare = [&](int ith, int nth) {
        int64_t b, e;
        split_range(act.rows, ith, nth, b, e);
        q8x16_prepare(q8 + b * nb, e - b, nb, out + b * nb);
    };
    if (act.rows * act.cols <= kSerialQuantize) {
        prepare(0, 1);
    } else {
        pool.run(prepare);
    }
    act.q8x_ready = true;
}

// A job's share of the fused row range: whole 16-row tiles, so that every chunk (whole tiles)
// starts a job's rows on a q8x16 group and no group is split between two threads; rows past the
// job's end are skipped.
int64_t span(const Mat& w) { return (w.rows + kRowTile - 1) / kRowTile * kRowTile; }

}  // namespace

void prepare_activations(ThreadPool& pool, const Mat& w, Activations& act) {
    if (w.q8x16) {
        ensure_q8x(pool, act);
    } else if (w.type == GGML_Q8_0 || w.type == GGML_Q4_0) {
        ensure_q8(pool, act);
    }
}

void matmul(ThreadPool& pool, const Mat& w, Activations& act, float* y, int64_t ldy, bool accumulate,
            float* deq_scratch, int64_t deq_stride) {
    const MatmulJob job{&w, y, ldy, accumulate};
    matmul_fused(pool, &job, 1, act, deq_scratch, deq_stride);
}

void matmul_fused(ThreadPool& pool, const MatmulJob* jobs, int n_jobs, Activations& act, float* deq_scratch,
                  int64_t deq_stride) {
    int64_t total = 0;
    for (int j = 0; j < n_jobs; j++) {
        if (jobs[j].w->cols != act.cols) {
            fail(DYN_ERR_INTERNAL, "matmul input width does not match the weight");
        }
        prepare_activations(pool, *jobs[j].w, act);
        total += span(*jobs[j].w);
    }
    // Rows go out in chunks that threads claim as they finish (ThreadPool::run_chunks): about
    // eight per thread, whole 16-row tiles, so a thread that lost its core to another process
    // costs a chunk, not half the product.
    const int64_t nth = pool.size();
    const int64_t chunk = (std::max(total / (nth * 8), kRowTile) + kRowTile - 1) / kRowTile * kRowTile;
    pool.run_chunks(total, chunk, [&](int64_t b, int64_t e, int ith) {
        float* row = deq_scratch + static_cast<int64_t>(ith) * deq_stride;
        int64_t base = 0;
        for (int j = 0; j < n_jobs && base < e; j++) {
            const MatmulJob& job = jobs[j];
            const int64_t r0 = std::max(b - base, int64_t{0});
            const int64_t r1 = std::min(e - base, job.w->rows);
            if (r0 < r1) {
                matmul_rows(*job.w, act, job.y, job.ldy, job.accumulate, r0, r1, row);
            }
            base += span(*job.w);
        }
    });
}

}  // namespace dyn
