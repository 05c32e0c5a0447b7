// Scalar row dequantization for every type the engine computes with.
#pragma once

#include "common.h"

namespace dyn {

// Writes n floats; n must be a multiple of the type's block size. Throws
// DYN_ERR_UNSUPPORTED for types without a dequantizer.
void dequantize_row(uint32_t type, const uint8_t* src, float* dst, int64_t n);

}  // namespace dyn
