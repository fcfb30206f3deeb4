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

/// `rows` (a constant after inlining) rows times one or two panels starting at panel `p`. Row `r`
/// of the input is `runs` runs of `run_length` values, run `s` at `run[s] + r * row_stride`: one
/// run of `in_channels` for a 1x1 convolution, one per kernel row for the stem. With `prefetch`,
/// the weights of the panels the next tile covers are fetched into the cache meanwhile.
static inline __attribute__((always_inline)) void tile(
    const float *const *run, const int runs, int run_length, int row_stride, const float *packed, int out_channels,
    int p, const int wide, const float *residual, int relu6, float *output, const int rows, int prefetch) {
    const size_t panel_floats = (size_t)(runs * run_length + 1) * PANEL;
    const float *w0 = packed + (size_t)p * panel_floats;
    const float *w1 = w0 + panel_floats;
    vec sum0[MAX_TILE_ROWS], sum1[MAX_TILE_ROWS];
    const vec bias0 = *(const vec *)w0, bias1 = wide ? *(const vec *)w1 : bias0;
    for (int r = 0; r < rows; r++) {
        sum0[r] = bias0;
        sum1[r] = bias1;
    }
    for (int s = 0, k = 0; s < runs; s++) {
        const float *input = run[s];
        // Kept rolled: unrolled, the stem's short runs would load all their weight vectors up
        // front and spill them.
#pragma clang loop unroll(disable)
        for (int i = 0; i < run_length; i++, k++) {
            const vec b0 = *(const vec *)(w0 + (size_t)(k + 1) * PANEL);
            if (prefetch) {  // the next tile's panel or pair
                __builtin_prefetch(w0 + (size_t)(wide ? 2 : 1) * panel_floats + (size_t)k * PANEL);
                if (wide) __builtin_prefetch(w0 + 3 * panel_floats + (size_t)k * PANEL);
            }
            if (wide) {
                const vec b1 = *(const vec *)(w1 + (size_t)(k + 1) * PANEL);
                for (int r = 0; r < rows; r++) {
                    const float x = input[(size_t)r * row_stride + i];
                    sum0[r] += x * b0;
                    sum1[r] += x * b1;
                }
            } else {
                for (int r = 0; r < rows; r++) sum0[r] += input[(size_t)r * row_stride + i] * b0;
            }
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

/// Dispatches a row count up to 8 to a tile specialised for it.
#define TILE_CASES(wide)                                                                                              \
    switch (rows) {                                                                                                   \
    case 1: tile(run, runs, run_length, row_stride, packed, out_channels, p, wide, residual, relu6, output, 1, prefetch); break; \
    case 2: tile(run, runs, run_length, row_stride, packed, out_channels, p, wide, residual, relu6, output, 2, prefetch); break; \
    case 3: tile(run, runs, run_length, row_stride, packed, out_channels, p, wide, residual, relu6, output, 3, prefetch); break; \
    case 4: tile(run, runs, run_length, row_stride, packed, out_channels, p, wide, residual, relu6, output, 4, prefetch); break; \
    case 5: tile(run, runs, run_length, row_stride, packed, out_channels, p, wide, residual, relu6, output, 5, prefetch); break; \
    case 6: tile(run, runs, run_length, row_stride, packed, out_channels, p, wide, residual, relu6, output, 6, prefetch); break; \
    case 7: tile(run, runs, run_length, row_stride, packed, out_channels, p, wide, residual, relu6, output, 7, prefetch); break; \
    default: tile(run, runs, run_length, row_stride, packed, out_channels, p, wide, residual, relu6, output, 8, prefetch); break; \
    }

static inline __attribute__((always_inline)) void tile_any(
    const float *const *run, const int runs, int run_length, int row_stride, const float *packed, int out_channels,
    int p, int wide, const float *residual, int relu6, float *output, int rows, int prefetch) {
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

/// One call's arguments: a 1x1 convolution (`image` NULL) or the stem (`image` set).
typedef struct {
    const float *input, *packed, *residual, *image;
    int in_channels, out_channels, first_row, end_row, first_panel, end_panel, relu6, height, width;
    float *scratch, *output;
} job;

/// Tiles of `max_rows` rows over panel pairs (`pairs`) or single panels, as the build's registers hold.
static inline __attribute__((always_inline)) void pointwise(const job *j, const int max_rows, const int pairs) {
    const int step = pairs ? 2 : 1;
    // Blocks and tiles split their rows evenly (49 rows: seven tiles of 7, not six of 8 and a
    // lone row, whose single chain of multiply-adds would cost half a full tile).
    for (int m0 = j->first_row; m0 < j->end_row;) {
        const int m_end = m0 + even_share(j->end_row - m0, ROW_BLOCK);
        for (int p = j->first_panel; p < j->end_panel; p += step) {
            const int wide = pairs && p + 1 < j->end_panel;
            // In the first block the weights come from memory (a single image's pass reads each
            // layer's once): one tile fetches the next panels' while the others compute.
            const int first_rows = even_share(m_end - m0, max_rows);
            const int prefetch_at = m0 == j->first_row && p + step < j->end_panel ? (m_end - m0 > first_rows ? m0 + first_rows : m0) : -1;
            for (int m = m0; m < m_end;) {
                const int rows = even_share(m_end - m, max_rows);
                const size_t at = (size_t)m * j->out_channels;
                const float *row = j->input + (size_t)m * j->in_channels;
                tile_any(&row, 1, j->in_channels, j->in_channels, j->packed, j->out_channels, p, wide,
                         j->residual ? j->residual + at : 0, j->relu6, j->output + at, rows, m == prefetch_at);
                m += rows;
            }
        }
        m0 = m_end;
    }
}

/// TF SAME padding before the first row or column of a 3x3 stride-2 convolution over `size`.
static inline int stem_padding(int size) {
    const int total = ((size + 1) / 2 - 1) * 2 + 3 - size;
    return total > 0 ? total / 2 : 0;
}

size_t fish_stem_scratch_floats(int width) {
    return 3 * (size_t)((width + 1) / 2 * 2 + 1) * 3;
}

/// The stem's output rows: for each, the three input rows its windows cover are copied, zero-
/// padded, into `scratch` (one 9-value run per kernel row and output pixel, pixels 6 values
/// apart), and the tiles read their patches straight from there.
static inline __attribute__((always_inline)) void stem(const job *j, const int max_rows, const int pairs) {
    const int height = j->height, width = j->width, out_width = (width + 1) / 2;
    const int pad_top = stem_padding(height), pad_left = stem_padding(width);
    const int span = out_width * 2 + 1, panels = (j->out_channels + PANEL - 1) / PANEL;
    for (int oy = j->first_row; oy < j->end_row; oy++) {
        const float *run[3];
        for (int ky = 0; ky < 3; ky++) {
            float *row = j->scratch + (size_t)ky * span * 3;
            const int iy = oy * 2 + ky - pad_top;
            memset(row, 0, (size_t)span * 3 * sizeof(float));
            if (iy >= 0 && iy < height) {
                const int copied = width < span - pad_left ? width : span - pad_left;
                memcpy(row + pad_left * 3, j->image + (size_t)iy * width * 3, (size_t)copied * 3 * sizeof(float));
            }
            run[ky] = row;
        }
        float *target = j->output + (size_t)oy * out_width * j->out_channels;
        for (int p = 0; p < panels; p += pairs ? 2 : 1) {
            for (int ox = 0; ox < out_width;) {
                const int rows = even_share(out_width - ox, max_rows);
                const float *at[3] = {run[0] + ox * 6, run[1] + ox * 6, run[2] + ox * 6};
                tile_any(at, 3, 9, 6, j->packed, j->out_channels, p, pairs && p + 1 < panels, 0, 1,
                         target + (size_t)ox * j->out_channels, rows, 0);
                ox += rows;
            }
        }
    }
}

static inline __attribute__((always_inline)) void run_job(const job *j, const int max_rows, const int pairs) {
    if (j->image) stem(j, max_rows, pairs);
    else pointwise(j, max_rows, pairs);
}

// One build per instruction set, each with a tile that its vector registers hold with the weights
// and a broadcast beside the accumulators: AVX-512, 8 rows x a panel pair (16 of 32 zmm); AVX2,
// 6 rows x one panel (12 of 16 ymm: 3 rows x a pair needs 17 and spilled two accumulators on
// every step of the reduction); baseline, 1 row x a pair (8 of 16 xmm).
#if defined(__x86_64__) && defined(__clang__)
__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")))
static void run_avx512(const job *j) { run_job(j, 8, 1); }

__attribute__((target("avx2,fma")))
static void run_avx2(const job *j) { run_job(j, 6, 0); }
#endif

static void run_baseline(const job *j) { run_job(j, 1, 1); }

/// Runs `j` on the build for `isa`; non-zero if this CPU lacks it.
static int run_on(int isa, const job *j) {
    if (!fish_isa_supported(isa)) return 1;
    switch (isa) {
#if defined(__x86_64__) && defined(__clang__)
    case FISH_ISA_AVX512: run_avx512(j); return 0;
    case FISH_ISA_AVX2: run_avx2(j); return 0;
#endif
    case FISH_ISA_BASELINE: run_baseline(j); return 0;
    default: return 1;
    }
}

int fish_pointwise(int isa, const float *input, int in_channels, const float *packed, int out_channels, int first_row,
                   int end_row, int first_panel, int end_panel, const float *residual, int relu6, float *output) {
    const job j = {.input = input, .packed = packed, .residual = residual, .in_channels = in_channels,
                   .out_channels = out_channels, .first_row = first_row, .end_row = end_row,
                   .first_panel = first_panel, .end_panel = end_panel, .relu6 = relu6, .output = output};
    return run_on(isa, &j);
}

int fish_stem(int isa, const float *image, int height, int width, const float *packed, int out_channels,
              int first_row, int end_row, float *scratch, float *output) {
    const job j = {.image = image, .packed = packed, .in_channels = 27, .out_channels = out_channels,
                   .first_row = first_row, .end_row = end_row, .height = height, .width = width, .relu6 = 1,
                   .scratch = scratch, .output = output};
    return run_on(isa, &j);
}
