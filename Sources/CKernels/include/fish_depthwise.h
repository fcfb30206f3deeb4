#ifndef FISH_DEPTHWISE_H
#define FISH_DEPTHWISE_H

#include "fish_isa.h"

/// Depthwise k x k convolution over NHWC rows `first_row..<end_row` of the output (rows counted
/// across the batch) and channels `first_channel..<end_channel` (`first_channel` a multiple of
/// 16), TF SAME padding, bias and ReLU6 fused, on the build for `isa`. `weights` are tap-major:
/// `weights[(ky * k + kx) * channels + c]`. `bias` may be NULL (no bias); `relu` non-zero applies
/// ReLU6. Returns non-zero, computing nothing, if this CPU lacks `isa`.
int fish_depthwise(int isa, const float *input, int height, int width, int channels, const float *weights,
                   const float *bias, int kernel, int stride, int pad_top, int pad_left, int out_height, int out_width,
                   int first_row, int end_row, int first_channel, int end_channel, int relu, float *output);

/// Output rows `fish_depthwise` takes as one band over an input of `height` rows (the band's
/// input stays in the L2 cache while each block of 16 channels passes over it), or 0 if the input
/// is too large to be in the cache and streams row by row. Callers that split the rows keep bands
/// whole where they can.
int fish_depthwise_band_rows(int height, int width, int channels, int kernel, int stride);

/// The gradients of a depthwise convolution (no bias, no activation) over `batch` NHWC images:
/// adds `d_output`'s contributions into `d_weights` (tap-major, like `weights`) and, unless it is
/// NULL, into `d_input`.
void fish_depthwise_backward(const float *input, const float *d_output, int batch, int height, int width,
                             int channels, const float *weights, int kernel, int stride, int pad_top, int pad_left,
                             int out_height, int out_width, float *d_input, float *d_weights);

#endif
