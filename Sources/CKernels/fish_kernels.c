#include "fish_kernels.h"

#define BLOCK 16
#define WIDE 32
#define GROUP 4

#if defined(__x86_64__) && defined(__clang__)
#define MULTIVERSION __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define MULTIVERSION
#endif

static inline float relu6(float value) {
    return value < 0 ? 0 : (value > 6 ? 6 : value);
}

static inline float activate(float value, int relu) {
    return relu ? relu6(value) : value;
}

/// Channels `c0..<c0 + lanes` of `count` (at most `GROUP`) consecutive outputs of one row, starting
/// at `ox`. `lanes` is a constant after inlining: two vectors' worth keep eight sums in flight,
/// enough to hide the latency of the multiply-adds. Unless `edge` (also a constant), all taps of
/// the `GROUP` outputs lie inside the row; at the edges, taps outside it are skipped.
static inline __attribute__((always_inline)) void depthwise_lanes(
    const float *source, int width, int channels, const float *weights, const float *bias, int kernel, int stride,
    int pad_top, int pad_left, int oy, int ox, int count, int ky_begin, int ky_end, int relu, int c0,
    const int lanes, const int edge, float *target) {
    float sum[GROUP][WIDE];
    for (int g = 0; g < GROUP; g++)
        for (int i = 0; i < lanes; i++) sum[g][i] = bias ? bias[c0 + i] : 0;
    for (int ky = ky_begin; ky < ky_end; ky++) {
        const float *row = source + (long)(oy * stride + ky - pad_top) * width * channels + c0;
        for (int kx = 0; kx < kernel; kx++) {
            const float *tap = weights + (long)(ky * kernel + kx) * channels + c0;
            for (int g = 0; g < GROUP; g++) {
                const int ix = (ox + g) * stride + kx - pad_left;
                if (edge && (g >= count || ix < 0 || ix >= width)) continue;
                const float *pixel = row + (long)ix * channels;
                for (int i = 0; i < lanes; i++) sum[g][i] += pixel[i] * tap[i];
            }
        }
    }
    for (int g = 0; g < (edge ? count : GROUP); g++)
        for (int i = 0; i < lanes; i++) target[(long)g * channels + c0 + i] = activate(sum[g][i], relu);
}

/// Channels `first..<channels` of `count` outputs starting at `ox`, one channel at a time.
static void depthwise_tail(const float *source, int width, int channels, const float *weights, const float *bias,
                           int kernel, int stride, int pad_top, int pad_left, int oy, int ox, int count, int ky_begin,
                           int ky_end, int relu, int first, float *target) {
    for (int c = first; c < channels; c++) {
        for (int g = 0; g < count; g++) {
            float sum = bias ? bias[c] : 0;
            for (int ky = ky_begin; ky < ky_end; ky++) {
                const int iy = oy * stride + ky - pad_top;
                for (int kx = 0; kx < kernel; kx++) {
                    const int ix = (ox + g) * stride + kx - pad_left;
                    if (ix < 0 || ix >= width) continue;
                    sum += source[((long)iy * width + ix) * channels + c] * weights[(ky * kernel + kx) * channels + c];
                }
            }
            target[(long)g * channels + c] = activate(sum, relu);
        }
    }
}

/// `count` (at most `GROUP`) consecutive outputs of one row starting at `ox`, all channels: blocks
/// of `WIDE` channels, then one of `BLOCK`, then single channels. Each weight load serves every
/// output of the group; only groups at the edges (`edge`) check their taps.
static inline __attribute__((always_inline)) void depthwise_group(
    const float *source, int width, int channels, const float *weights, const float *bias, int kernel, int stride,
    int pad_top, int pad_left, int oy, int ox, int count, int ky_begin, int ky_end, int relu, const int edge,
    float *target) {
    int c0 = 0;
    for (; c0 + WIDE <= channels; c0 += WIDE) {
        depthwise_lanes(source, width, channels, weights, bias, kernel, stride, pad_top, pad_left, oy, ox, count,
                        ky_begin, ky_end, relu, c0, WIDE, edge, target);
    }
    for (; c0 + BLOCK <= channels; c0 += BLOCK) {
        depthwise_lanes(source, width, channels, weights, bias, kernel, stride, pad_top, pad_left, oy, ox, count,
                        ky_begin, ky_end, relu, c0, BLOCK, edge, target);
    }
    if (c0 < channels) {
        depthwise_tail(source, width, channels, weights, bias, kernel, stride, pad_top, pad_left, oy, ox, count,
                       ky_begin, ky_end, relu, c0, target);
    }
}

MULTIVERSION
void fish_depthwise(const float *input, int height, int width, int channels, const float *weights,
                    const float *bias, int kernel, int stride, int pad_top, int pad_left, int out_height,
                    int out_width, int first_row, int end_row, int relu, float *output) {
    for (int image_row = first_row; image_row < end_row; image_row++) {
        const int image = image_row / out_height, oy = image_row % out_height;
        const float *source = input + (long)image * height * width * channels;
        const int ky_begin = pad_top - oy * stride > 0 ? pad_top - oy * stride : 0;
        const int ky_limit = height + pad_top - oy * stride;
        const int ky_end = ky_limit < kernel ? ky_limit : kernel;
        for (int ox = 0; ox < out_width; ox += GROUP) {
            float *target = output + ((long)image_row * out_width + ox) * channels;
            const int count = out_width - ox < GROUP ? out_width - ox : GROUP;
            if (count == GROUP && ox * stride >= pad_left && (ox + GROUP - 1) * stride + kernel - pad_left <= width) {
                depthwise_group(source, width, channels, weights, bias, kernel, stride, pad_top, pad_left, oy, ox, count,
                                ky_begin, ky_end, relu, 0, target);
            } else {
                depthwise_group(source, width, channels, weights, bias, kernel, stride, pad_top, pad_left, oy, ox, count,
                                ky_begin, ky_end, relu, 1, target);
            }
        }
    }
}

MULTIVERSION
void fish_depthwise_backward(const float *restrict input, const float *restrict d_output, int batch, int height, int width,
                             int channels, const float *restrict weights, int kernel, int stride, int pad_top, int pad_left,
                             int out_height, int out_width, float *restrict d_input, float *restrict d_weights) {
    for (int image = 0; image < batch; image++) {
        const float *source = input + (long)image * height * width * channels;
        float *d_source = d_input ? d_input + (long)image * height * width * channels : 0;
        for (int oy = 0; oy < out_height; oy++) {
            for (int ox = 0; ox < out_width; ox++) {
                const float *d_out = d_output + (((long)image * out_height + oy) * out_width + ox) * channels;
                for (int ky = 0; ky < kernel; ky++) {
                    const int iy = oy * stride + ky - pad_top;
                    if (iy < 0 || iy >= height) continue;
                    for (int kx = 0; kx < kernel; kx++) {
                        const int ix = ox * stride + kx - pad_left;
                        if (ix < 0 || ix >= width) continue;
                        const long pixel = ((long)iy * width + ix) * channels;
                        const long tap = (long)(ky * kernel + kx) * channels;
                        for (int c = 0; c < channels; c++) d_weights[tap + c] += d_out[c] * source[pixel + c];
                        if (d_source) {
                            for (int c = 0; c < channels; c++) d_source[pixel + c] += d_out[c] * weights[tap + c];
                        }
                    }
                }
            }
        }
    }
}
