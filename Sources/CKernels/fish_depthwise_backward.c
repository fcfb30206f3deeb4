#include "fish_depthwise.h"

#if defined(__x86_64__) && defined(__clang__)
#define MULTIVERSION __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define MULTIVERSION
#endif

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
