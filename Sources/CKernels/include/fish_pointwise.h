#ifndef FISH_POINTWISE_H
#define FISH_POINTWISE_H

#include <stddef.h>

#include "fish_isa.h"

/// Output channels per packed weight panel.
#define FISH_POINTWISE_PANEL 16

/// Floats `fish_pointwise_pack` writes for a layer: per panel of 16 output channels, the bias and
/// then one row of 16 weights per input channel, zero-padded past `out_channels`.
size_t fish_pointwise_packed_floats(int in_channels, int out_channels);

/// Packs `weights[out_channels][in_channels]` and `bias[out_channels]` for `fish_pointwise`.
void fish_pointwise_pack(const float *weights, const float *bias, int in_channels, int out_channels, float *packed);

/// A 1x1 convolution over NHWC pixel rows with its bias, residual and ReLU6 fused, on the build
/// for `isa`: `output[m][n] = act(bias[n] + sum_k input[m][k] * weights[n][k] (+ residual[m][n]))`
/// for rows `first_row..<end_row` and the output channels of panels `first_panel..<end_panel`.
/// `residual` may be NULL; `relu6` non-zero clamps to [0, 6]. Rows are `in_channels` apart in
/// `input` and `out_channels` apart in `output` and `residual`. Returns non-zero, computing
/// nothing, if this CPU lacks `isa`.
int fish_pointwise(int isa, const float *input, int in_channels, const float *packed, int out_channels, int first_row,
                   int end_row, int first_panel, int end_panel, const float *residual, int relu6, float *output);

/// Floats of scratch `fish_stem` needs for an image `width` pixels wide.
size_t fish_stem_scratch_floats(int width);

/// The stem: a 3x3 stride-2 convolution of an RGB image (NHWC, `height * width * 3`) with TF SAME
/// padding, bias and ReLU6, for output rows `first_row..<end_row`, on the build for `isa`.
/// `packed` holds the weights of `out_channels` outputs over 27 inputs ordered (ky, kx, channel);
/// `output` is the whole output (`ceil(height / 2) * ceil(width / 2) * out_channels`); `scratch`
/// has `fish_stem_scratch_floats(width)` floats, its own for each concurrent call. Returns
/// non-zero, computing nothing, if this CPU lacks `isa`.
int fish_stem(int isa, const float *image, int height, int width, const float *packed, int out_channels,
              int first_row, int end_row, float *scratch, float *output);

#endif
