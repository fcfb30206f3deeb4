#include "fish_pointwise.h"

#include <string.h>

// The vector helpers below are always inlined into builds that enable the instruction set, so no
// vector ever crosses a call boundary with a different ABI.
#pragma clang diagnostic ignored "-Wpsabi"

// A 1x1 convolution over NHWC rows as a register-blocked product: each tile keeps `rows` x 16 or
// `rows` x 32 outputs in vector registers for the whole reduction, reads the activations in place
// (one broadcast per row and input channel, no packing) and the weights from panels packed once
// when the model loads, then adds the bias, the residual and ReLU6 before the only store.

#define PANEL FISH_POINTWISE_PANEL

/// The most rows one tile holds (the AVX-512 build's; the others use fewer).
#define MAX_TILE_ROWS 8

typedef float vec __attribute__((vector_size(PANEL * sizeof(float)), aligned(sizeof(float))));

size_t fish_pointwise_packed_floats(int in_channels, int out_channels) {
    const size_t panels = (size_t)(out_channels + PANEL - 1) / PANEL;
    return panels * (size_t)(in_channels + 1) * PANEL;
}

void fish_pointwise_pack(const float *weights, const float *bias, int in_channels, int out_channels, float *packed) {
    const int panels = (out_channels + PANEL - 1) / PANEL;
    for (int p = 0; p < panels; p++) {
        float *panel = packed + (size_t)p * (in_channels + 1) * PANEL;
        for (int j = 0; j < PANEL; j++) {
            const int n = p * PANEL + j;
            panel[j] = n < out_channels ? bias[n] : 0;
            for (int k = 0; k < in_channels; k++) {
                panel[(size_t)(k + 1) * PANEL + j] = n < out_channels ? weights[(size_t)n * in_channels + k] : 0;
            }
        }
    }
}

static inline __attribute__((always_inline)) vec load_partial(const float *source, int count) {
    vec value = {0};
    memcpy(&value, source, (size_t)count * sizeof(float));
    return value;
}

static inline __attribute__((always_inline)) void store_partial(float *target, vec value, int count) {
    memcpy(target, &value, (size_t)count * sizeof(float));
}

static inline __attribute__((always_inline)) vec clamp6(vec value) {
    const vec zero = {0}, six = zero + 6.0f;
    return __builtin_elementwise_min(__builtin_elementwise_max(value, zero), six);
}

/// Residual and ReLU6 for the last, partly filled panel of a layer.
static inline __attribute__((always_inline)) vec finish(vec sum, const float *residual, int count, int relu6) {
    if (residual) sum += load_partial(residual, count);
    return relu6 ? clamp6(sum) : sum;
}

/// `rows` (a constant after inlining) rows times one or two panels starting at panel `p`.
static inline __attribute__((always_inline)) void tile(
    const float *input, int in_channels, const float *packed, int out_channels, int p, const int wide,
    const float *residual, int relu6, float *output, const int rows) {
    const size_t panel_floats = (size_t)(in_channels + 1) * PANEL;
    const float *w0 = packed + (size_t)p * panel_floats;
    const float *w1 = w0 + panel_floats;
    vec sum0[MAX_TILE_ROWS], sum1[MAX_TILE_ROWS];
    const vec bias0 = *(const vec *)w0, bias1 = wide ? *(const vec *)w1 : bias0;
    for (int r = 0; r < rows; r++) {
        sum0[r] = bias0;
        sum1[r] = bias1;
    }
    for (int k = 0; k < in_channels; k++) {
        const vec b0 = *(const vec *)(w0 + (size_t)(k + 1) * PANEL);
        if (wide) {
            const vec b1 = *(const vec *)(w1 + (size_t)(k + 1) * PANEL);
            for (int r = 0; r < rows; r++) {
                const float x = input[(size_t)r * in_channels + k];
                sum0[r] += x * b0;
                sum1[r] += x * b1;
            }
        } else {
            for (int r = 0; r < rows; r++) sum0[r] += input[(size_t)r * in_channels + k] * b0;
        }
    }
    const int n0 = p * PANEL;
    if (n0 + (wide ? 2 : 1) * PANEL <= out_channels) {  // whole panels: plain vector stores
        for (int r = 0; r < rows; r++) {
            const size_t at = (size_t)r * out_channels + n0;
            vec value0 = sum0[r], value1 = sum1[r];
            if (residual) {
                value0 += *(const vec *)(residual + at);
                if (wide) value1 += *(const vec *)(residual + at + PANEL);
            }
            *(vec *)(output + at) = relu6 ? clamp6(value0) : value0;
            if (wide) *(vec *)(output + at + PANEL) = relu6 ? clamp6(value1) : value1;
        }
        return;
    }
    const int count0 = out_channels - n0 < PANEL ? out_channels - n0 : PANEL;
    const int count1 = wide ? out_channels - n0 - PANEL : 0;
    for (int r = 0; r < rows; r++) {
        const size_t at = (size_t)r * out_channels + n0;
        store_partial(output + at, finish(sum0[r], residual ? residual + at : 0, count0, relu6), count0);
        if (wide) {
            store_partial(output + at + PANEL, finish(sum1[r], residual ? residual + at + PANEL : 0, count1, relu6),
                          count1);
        }
    }
}

/// Dispatches a row count below `MAX` to a tile specialised for it.
#define TILE_CASES(wide)                                                                                              \
    switch (rows) {                                                                                                   \
    case 1: tile(input, in_channels, packed, out_channels, p, wide, residual, relu6, output, 1); break;               \
    case 2: tile(input, in_channels, packed, out_channels, p, wide, residual, relu6, output, 2); break;               \
    case 3: tile(input, in_channels, packed, out_channels, p, wide, residual, relu6, output, 3); break;               \
    case 4: tile(input, in_channels, packed, out_channels, p, wide, residual, relu6, output, 4); break;               \
    case 5: tile(input, in_channels, packed, out_channels, p, wide, residual, relu6, output, 5); break;               \
    case 6: tile(input, in_channels, packed, out_channels, p, wide, residual, relu6, output, 6); break;               \
    case 7: tile(input, in_channels, packed, out_channels, p, wide, residual, relu6, output, 7); break;               \
    default: tile(input, in_channels, packed, out_channels, p, wide, residual, relu6, output, 8); break;              \
    }

static inline __attribute__((always_inline)) void tile_any(
    const float *input, int in_channels, const float *packed, int out_channels, int p, int wide,
    const float *residual, int relu6, float *output, int rows) {
    if (wide) {
        TILE_CASES(1)
    } else {
        TILE_CASES(0)
    }
}

/// Rows of a block whose activations stay in cache while every panel pair passes over them.
enum { ROW_BLOCK = 64 };

/// The first part of `count` split into the fewest parts of at most `limit`, as evenly as possible.
static inline int even_share(int count, int limit) {
    const int parts = (count + limit - 1) / limit;
    return (count + parts - 1) / parts;
}

static inline __attribute__((always_inline)) void pointwise(
    const float *input, int in_channels, const float *packed, int out_channels, int first_row, int end_row,
    int first_panel, int end_panel, const float *residual, int relu6, float *output, const int max_rows) {
    // Blocks and tiles split their rows evenly (49 rows: seven tiles of 7, not six of 8 and a
    // lone row, whose single chain of multiply-adds would cost half a full tile).
    for (int m0 = first_row; m0 < end_row;) {
        const int m_end = m0 + even_share(end_row - m0, ROW_BLOCK);
        for (int p = first_panel; p < end_panel; p += 2) {
            const int wide = p + 1 < end_panel;
            for (int m = m0; m < m_end;) {
                const int rows = even_share(m_end - m, max_rows);
                const size_t at = (size_t)m * out_channels;
                tile_any(input + (size_t)m * in_channels, in_channels, packed, out_channels, p, wide,
                         residual ? residual + at : 0, relu6, output + at, rows);
                m += rows;
            }
        }
        m0 = m_end;
    }
}

// One build per instruction set, each with as many rows per tile as its vector registers hold
// (32 zmm, 16 ymm or 16 xmm registers for the 2 x rows accumulators of a 16-wide vector type).
#if defined(__x86_64__) && defined(__clang__)
__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")))
static void pointwise_avx512(const float *input, int in_channels, const float *packed, int out_channels, int first_row,
                             int end_row, int first_panel, int end_panel, const float *residual, int relu6,
                             float *output) {
    pointwise(input, in_channels, packed, out_channels, first_row, end_row, first_panel, end_panel, residual, relu6,
              output, 8);
}

__attribute__((target("avx2,fma")))
static void pointwise_avx2(const float *input, int in_channels, const float *packed, int out_channels, int first_row,
                           int end_row, int first_panel, int end_panel, const float *residual, int relu6,
                           float *output) {
    pointwise(input, in_channels, packed, out_channels, first_row, end_row, first_panel, end_panel, residual, relu6,
              output, 3);
}
#endif

static void pointwise_baseline(const float *input, int in_channels, const float *packed, int out_channels,
                               int first_row, int end_row, int first_panel, int end_panel, const float *residual,
                               int relu6, float *output) {
    pointwise(input, in_channels, packed, out_channels, first_row, end_row, first_panel, end_panel, residual, relu6,
              output, 1);
}

typedef void (*pointwise_fn)(const float *, int, const float *, int, int, int, int, int, const float *, int, float *);

static pointwise_fn build_for(int isa) {
    switch (isa) {
#if defined(__x86_64__) && defined(__clang__)
    case FISH_ISA_AVX512: return pointwise_avx512;
    case FISH_ISA_AVX2: return pointwise_avx2;
#endif
    case FISH_ISA_BASELINE: return pointwise_baseline;
    default: return 0;
    }
}

int fish_pointwise(int isa, const float *input, int in_channels, const float *packed, int out_channels, int first_row,
                   int end_row, int first_panel, int end_panel, const float *residual, int relu6, float *output) {
    const pointwise_fn run = fish_isa_supported(isa) ? build_for(isa) : 0;
    if (run == 0) return 1;
    run(input, in_channels, packed, out_channels, first_row, end_row, first_panel, end_panel, residual, relu6, output);
    return 0;
}
