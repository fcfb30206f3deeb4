#ifndef FISH_KERNELS_H
#define FISH_KERNELS_H

/// Depthwise k x k convolution over NHWC rows `first_row..<end_row` of the output (rows counted
/// across the batch), TF SAME padding, bias and ReLU6 fused. `weights` are tap-major:
/// `weights[(ky * k + kx) * channels + c]`.
///
/// Written in C so that the compiler can build AVX-512, AVX2 and baseline versions of the loop and
/// pick one at load time for this CPU (`target_clones`); Swift's SIMD types compile to baseline
/// SSE here, a quarter of the vector width.
/// `bias` may be NULL (no bias); `relu` non-zero applies ReLU6.
void fish_depthwise(const float *input, int height, int width, int channels, const float *weights,
                    const float *bias, int kernel, int stride, int pad_top, int pad_left, int out_height,
                    int out_width, int first_row, int end_row, int relu, float *output);

/// The gradients of a depthwise convolution (no bias, no activation) over `batch` NHWC images:
/// adds `d_output`'s contributions into `d_weights` (tap-major, like `weights`) and, unless it is
/// NULL, into `d_input`.
void fish_depthwise_backward(const float *input, const float *d_output, int batch, int height, int width,
                             int channels, const float *weights, int kernel, int stride, int pad_top, int pad_left,
                             int out_height, int out_width, float *d_input, float *d_weights);

#endif
