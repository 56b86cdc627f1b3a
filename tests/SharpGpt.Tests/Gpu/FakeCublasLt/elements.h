/* The stand-ins' operand elements: fp32 (CUDA_R_32F) or bf16 (CUDA_R_16BF) read as fp32, and fp32
 * stored as either, rounded to nearest, ties to even. */
#ifndef FAKE_ELEMENTS_H
#define FAKE_ELEMENTS_H
#include <stdint.h>
#include <string.h>

enum { R_32F = 0, R_16BF = 14 };

static inline float element(const void *p, int type, int64_t at)
{
    if (type == R_32F) return ((const float *)p)[at];
    uint32_t bits = (uint32_t)((const uint16_t *)p)[at] << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline void store(void *p, int type, int64_t at, float value)
{
    if (type == R_32F) { ((float *)p)[at] = value; return; }
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    ((uint16_t *)p)[at] = (uint16_t)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}
#endif
