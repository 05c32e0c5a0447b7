#include "kernels.h"

#include <atomic>

namespace dyn {

namespace {

const KernelTable* detect() {
#if defined(DYN_HAVE_AVX2)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
        return __builtin_cpu_supports("avxvnni") ? &avxvnni_kernels() : &avx2_kernels();
    }
#endif
    return &scalar_kernels();
}

std::atomic<bool> g_force_scalar{false};

}  // namespace

const KernelTable& kernels() {
    static const KernelTable* best = detect();
    return g_force_scalar.load(std::memory_order_relaxed) ? scalar_kernels() : *best;
}

void set_force_scalar(bool force) { g_force_scalar.store(force, std::memory_order_relaxed); }

}  // namespace dyn
