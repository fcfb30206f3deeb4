#include "fish_depthwise.h"

// The vector helpers below are always inlined into builds that enable the instruction set, so no
// vector ever crosses a call boundary with a different ABI.
#pragma clang diagnostic ignored "-Wpsabi"

// A depthwise convolution over NHWC rows, register-blocked along the output row: a strip of up to
// eight neighbouring outputs keeps one vector of 16 channels per output in registers, the row's
// taps sit in registers too, and each input pixel of the strip is loaded once and multiplied into
// every output whose window covers it. Kernel size, stride, strip length and whether the strip
// touches the padding are constants in the specialised strips, so their loops unroll fully.

#define LANES 16
/// The longest strip (the AVX-512 build's; the others hold fewer outputs in their registers).
#define MAX_STRIP 8
/// The largest kernel with vector strips; larger ones take the scalar path.
#define MAX_KERNEL 5
/// Input bytes a band of output rows reads: small enough to stay in the L2 cache while each block
/// of 16 channels passes over the band.
#define BAND_BYTES (256 * 1024)
/// Inputs up to this size are taken to be in the L2 cache, written there by the layer before.
#define RESIDENT_BYTES (1024 * 1024)

typedef float vec __attribute__((vector_size(LANES * sizeof(float)), aligned(sizeof(float))));

/// One call: the layer's geometry and the output rows and channels it computes.
typedef struct {
    const float *input;
    int height, width, channels;
    const float *weights, *bias;
    int kernel, stride, pad_top, pad_left, out_height, out_width;
    int first_row, end_row, first_channel, end_channel, relu;
    float *output;
} layer;

static inline __attribute__((always_inline)) vec clamp6(vec value) {
    const vec zero = {0}, six = zero + 6.0f;
    return __builtin_elementwise_min(__builtin_elementwise_max(value, zero), six);
}

/// Channels `c..<c + 16` of the `count` outputs from `ox` of output row `oy` of `image`, input rows
/// `ky_begin..<ky_end` of the window. Unless `edge`, every tap lies inside the row; at the edges,
/// taps outside it are skipped. `kernel`, `stride`, `count` and `edge` are constants after inlining.
static inline __attribute__((always_inline)) void strip(
    const layer *l, const float *image, int oy, int ox, int ky_begin, int ky_end, int c, const int kernel,
    const int stride, const int count, const int edge, float *target) {
    const int channels = l->channels, width = l->width, x0 = ox * stride - l->pad_left;
    const int span = (count - 1) * stride + kernel;
    vec sum[MAX_STRIP], taps[MAX_KERNEL];
    const vec bias = l->bias ? *(const vec *)(l->bias + c) : (vec){0};
    for (int g = 0; g < count; g++) sum[g] = bias;
    for (int ky = ky_begin; ky < ky_end; ky++) {
        for (int kx = 0; kx < kernel; kx++) taps[kx] = *(const vec *)(l->weights + (long)(ky * kernel + kx) * channels + c);
        const float *pixel = image + ((long)(oy * stride + ky - l->pad_top) * width + x0) * channels + c;
#pragma clang loop unroll(full)
        for (int j = 0; j < span; j++, pixel += channels) {
            if (edge && (x0 + j < 0 || x0 + j >= width)) continue;
            const vec value = *(const vec *)pixel;
#pragma clang loop unroll(full)
            for (int g = 0; g < count; g++) {
                const int kx = j - g * stride;
                if (kx >= 0 && kx < kernel) sum[g] += value * taps[kx];
            }
        }
    }
    for (int g = 0; g < count; g++) *(vec *)(target + (long)g * channels + c) = l->relu ? clamp6(sum[g]) : sum[g];
}

static inline float activate(float value, int relu) {
    return relu && value < 0 ? 0 : (relu && value > 6 ? 6 : value);
}

/// Channels `first..<end` of `count` outputs from `ox` of output row `oy`, one at a time: the
/// channels past the last whole vector, or every channel of a kernel without vector strips.
static void scalar_strip(const layer *l, const float *image, int oy, int ox, int count, int ky_begin, int ky_end,
                         int first, int end, float *target) {
    const int kernel = l->kernel, channels = l->channels;
    for (int c = first; c < end; c++) {
        for (int g = 0; g < count; g++) {
            float sum = l->bias ? l->bias[c] : 0;
            for (int ky = ky_begin; ky < ky_end; ky++) {
                const int iy = oy * l->stride + ky - l->pad_top;
                for (int kx = 0; kx < kernel; kx++) {
                    const int ix = (ox + g) * l->stride + kx - l->pad_left;
                    if (ix < 0 || ix >= l->width) continue;
                    sum += image[((long)iy * l->width + ix) * channels + c] * l->weights[(ky * kernel + kx) * channels + c];
                }
            }
            target[(long)g * channels + c] = activate(sum, l->relu);
        }
    }
}

/// Channels `c..<c + 16` of `count` outputs from `ox`, specialised for strips inside the row and
/// at its edges.
static inline __attribute__((always_inline)) void vector_strip(
    const layer *l, const float *image, int oy, int ox, int ky_begin, int ky_end, int c, const int kernel,
    const int stride, const int count, float *target) {
    const int x0 = ox * stride - l->pad_left;
    if (x0 >= 0 && x0 + (count - 1) * stride + kernel <= l->width) {
        strip(l, image, oy, ox, ky_begin, ky_end, c, kernel, stride, count, 0, target);
    } else {
        strip(l, image, oy, ox, ky_begin, ky_end, c, kernel, stride, count, 1, target);
    }
}

/// Dispatches a strip length up to `max_strip` (never more) to strips specialised for it.
static inline __attribute__((always_inline)) void any_strip(
    const layer *l, const float *image, int oy, int ox, int ky_begin, int ky_end, int c, const int kernel,
    const int stride, int count, const int max_strip, float *target) {
#define STRIP_CASE(n)                                                                                                 \
    case n:                                                                                                           \
        if (n <= max_strip) vector_strip(l, image, oy, ox, ky_begin, ky_end, c, kernel, stride, n, target);          \
        break;
    switch (count) {
        STRIP_CASE(8)
        STRIP_CASE(7)
        STRIP_CASE(6)
        STRIP_CASE(5)
        STRIP_CASE(4)
        STRIP_CASE(3)
        STRIP_CASE(2)
        STRIP_CASE(1)
    }
#undef STRIP_CASE
}

/// The first part of `count` split into the fewest parts of at most `limit`, as evenly as possible.
static inline int even_share(int count, int limit) {
    const int parts = (count + limit - 1) / limit;
    return (count + parts - 1) / parts;
}

/// Output row `image_row` (counted across the batch) in strips of at most `max_strip` outputs,
/// channels `c_begin..<c_end` of each strip in turn: blocks of 16 on the vector path while whole
/// ones remain and `vector`, the rest on the scalar path. `c_end` is at most the layer's channel
/// range's end.
static inline __attribute__((always_inline)) void output_row(const layer *l, int image_row, int c_begin, int c_end,
                                                             const int kernel, const int stride, const int max_strip,
                                                             const int vector) {
    const int image = image_row / l->out_height, oy = image_row % l->out_height;
    const float *source = l->input + (long)image * l->height * l->width * l->channels;
    const int ky_begin = l->pad_top - oy * stride > 0 ? l->pad_top - oy * stride : 0;
    const int ky_limit = l->height + l->pad_top - oy * stride;
    const int ky_end = ky_limit < kernel ? ky_limit : kernel;
    for (int ox = 0; ox < l->out_width;) {
        const int count = even_share(l->out_width - ox, max_strip);
        float *target = l->output + ((long)image_row * l->out_width + ox) * l->channels;
        for (int c = c_begin; c < c_end; c += LANES) {
            if (!vector || c + LANES > c_end) {
                scalar_strip(l, source, oy, ox, count, ky_begin, ky_end, c, c_end, target);
                break;
            }
            any_strip(l, source, oy, ox, ky_begin, ky_end, c, kernel, stride, count, max_strip, target);
        }
        ox += count;
    }
}

int fish_depthwise_band_rows(int height, int width, int channels, int kernel, int stride) {
    const long row_bytes = (long)width * channels * sizeof(float);
    if (row_bytes * height > RESIDENT_BYTES) return 0;
    const int band_input_rows = (int)(BAND_BYTES / row_bytes);
    return band_input_rows > kernel ? (band_input_rows - kernel) / stride + 1 : 1;
}

/// The call's output rows and channels. An input larger than `RESIDENT_BYTES` streams in from
/// memory: each strip does all its channels, reading its pixels front to back. A smaller one is
/// still in the cache from the layer before: bands of output rows whose input fits `BAND_BYTES`
/// go one block of 16 channels at a time, so the few input rows a block reads stay in the L1
/// cache from one output row to the next.
static inline __attribute__((always_inline)) void rows(const layer *l, const int kernel, const int stride,
                                                       const int max_strip, const int vector) {
    const int band = fish_depthwise_band_rows(l->height, l->width, l->channels, kernel, stride);
    if (band == 0) {
        for (int image_row = l->first_row; image_row < l->end_row; image_row++) {
            output_row(l, image_row, l->first_channel, l->end_channel, kernel, stride, max_strip, vector);
        }
        return;
    }
    for (int band_start = l->first_row; band_start < l->end_row; band_start += band) {
        const int band_end = band_start + band < l->end_row ? band_start + band : l->end_row;
        // A block of 16 channels at a time; the scalar path takes all that remain at once.
        for (int c = l->first_channel, c_end; c < l->end_channel; c = c_end) {
            c_end = vector && c + LANES < l->end_channel ? c + LANES : l->end_channel;
            for (int image_row = band_start; image_row < band_end; image_row++) {
                output_row(l, image_row, c, c_end, kernel, stride, max_strip, vector);
            }
        }
    }
}

/// The network's 3x3 and 5x5, stride 1 and 2 layers with constant geometry; any other on the
/// scalar path.
static inline __attribute__((always_inline)) void depthwise(const layer *l, const int max_strip) {
    const int kernel = l->kernel, stride = l->stride;
    if (kernel == 3 && stride == 1) rows(l, 3, 1, max_strip, 1);
    else if (kernel == 3 && stride == 2) rows(l, 3, 2, max_strip, 1);
    else if (kernel == 5 && stride == 1) rows(l, 5, 1, max_strip, 1);
    else if (kernel == 5 && stride == 2) rows(l, 5, 2, max_strip, 1);
    else rows(l, kernel, stride, max_strip, 0);
}

// One build per instruction set, each with the strip length that measured best for it: a
// 16-channel sum per output is 1 zmm, 2 ymm or 4 xmm registers.
#if defined(__x86_64__) && defined(__clang__)
__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma,avx2")))
static void depthwise_avx512(const layer *l) { depthwise(l, 8); }

__attribute__((target("avx2,fma")))
static void depthwise_avx2(const layer *l) { depthwise(l, 4); }
#endif

static void depthwise_baseline(const layer *l) { depthwise(l, 2); }

int fish_depthwise(int isa, const float *input, int height, int width, int channels, const float *weights,
                   const float *bias, int kernel, int stride, int pad_top, int pad_left, int out_height, int out_width,
                   int first_row, int end_row, int first_channel, int end_channel, int relu, float *output) {
    if (!fish_isa_supported(isa)) return 1;
    const layer l = {input, height, width, channels, weights, bias, kernel, stride, pad_top, pad_left, out_height,
                     out_width, first_row, end_row, first_channel, end_channel, relu, output};
    switch (isa) {
#if defined(__x86_64__) && defined(__clang__)
    case FISH_ISA_AVX512: depthwise_avx512(&l); return 0;
    case FISH_ISA_AVX2: depthwise_avx2(&l); return 0;
#endif
    case FISH_ISA_BASELINE: depthwise_baseline(&l); return 0;
    default: return 1;
    }
}
