// Inner-loop kernels behind a table of function pointers, chosen once at run
// time: AVX2+FMA+F16C when the CPU has them, a portable scalar set otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dyn {

struct KernelTable {
    const char* name;
    float (*dot_f32)(const float* a, const float* b, int n);
    float (*dot_f16)(const uint16_t* w, const float* x, int n);
    float (*dot_bf16)(const uint16_t* w, const float* x, int n);
    // Q8_0 weights · Q8_0-quantized activations; n elements (multiple of 32).
    float (*dot_q8_0)(const void* w, const void* x, int n);
    // Q4_0 weights · Q8_0-quantized activations.
    float (*dot_q4_0)(const void* w, const void* x, int n);
    void (*quantize_q8_0)(const float* x, void* y, int n);
    // Four activation rows (x_stride bytes apart) against one weight row: the weight row is
    // loaded once per block for all four, which is what makes batched matmuls cheaper per token.
    void (*dot4_f32)(const float* w, const float* x, size_t x_stride, int n, float* out);
    void (*dot4_f16)(const uint16_t* w, const float* x, size_t x_stride, int n, float* out);
    void (*dot4_q8_0)(const void* w, const void* x, size_t x_stride, int n, float* out);
    void (*dot4_q4_0)(const void* w, const void* x, size_t x_stride, int n, float* out);
    // y += a * x, for attention's value accumulation.
    void (*axpy_f32)(float a, const float* x, float* y, int n);
    void (*axpy_f16)(float a, const uint16_t* x, float* y, int n);
    void (*scale)(float* y, float a, int n);
};

const KernelTable& kernels();
void set_force_scalar(bool force);

const KernelTable& scalar_kernels();
#if defined(DYN_HAVE_AVX2)
const KernelTable& avx2_kernels();
const KernelTable& avxvnni_kernels();  // AVX2 + AVX-VNNI (kernels_avxvnni.cpp)
#endif

}  // namespace dyn
