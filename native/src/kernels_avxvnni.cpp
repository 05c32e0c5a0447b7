// The AVX2 kernels built with AVX-VNNI: integer dot products use vpdpbusd (one instruction
// instead of maddubs + madd) and give bit-identical results. Compiled with -mavxvnni only.
#define DYN_AVXVNNI 1
#include "kernels_avx2.cpp"
