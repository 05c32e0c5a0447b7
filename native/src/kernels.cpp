#include "kernels.h"

#include <atomic>

#include "fast_exp.h"

namespace dyn {

namespace {

const KernelTable* detect() {
#if defined(DYN_HAVE_AVX2)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
        const KernelTable& base = __builtin_cpu_supports("avxvnni") ? avxvnni_kernels() : avx2_kernels();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")) {
            // The AVX2 set plus the AVX-512 GEMM for batches and attention (same integers, same
            // float order).
            static KernelTable with_gemm = base;
            with_gemm.name = &base == &avxvnni_kernels() ? "avx2-vnni+avx512-gemm" : "avx2+avx512-gemm";
            with_gemm.gemm_q8_0 = gemm_q8_0_avx512;
            with_gemm.gemm_f32 = gemm_f32_avx512;
            with_gemm.gemm_f16 = gemm_f16_avx512;
            with_gemm.attn_rows_f32 = attn_rows_f32_avx512;
            with_gemm.attn_rows_f16 = attn_rows_f16_avx512;
            return &with_gemm;
        }
        return &base;
    }
#endif
    return &scalar_kernels();
}

std::atomic<bool> g_force_scalar{false};

const KernelTable& best() {
    static const KernelTable* table = detect();
    return *table;
}

}  // namespace

const KernelTable& kernels() {
    return g_force_scalar.load(std::memory_order_relaxed) ? scalar_kernels() : best();
}

void set_force_scalar(bool force) { g_force_scalar.store(force, std::memory_order_relaxed); }

bool q8x16_kernels_available() {
    return best().gemm_q8_0 != nullptr;
}

void silu_mul(float* g, const float* u, int64_t n) {
#if defined(DYN_HAVE_AVX2)
    if (&kernels() != &scalar_kernels()) {
        silu_mul_avx2(g, u, n);
        return;
    }
#endif
    silu_mul_scalar(g, u, n);
}

void silu_mul_scalar(float* g, const float* u, int64_t n) {
    for (int64_t i = 0; i < n; i++) g[i] = g[i] / (1.0f + exp_attn(-g[i])) * u[i];
}

}  // namespace dyn
