#ifndef FISH_JPEG_H
#define FISH_JPEG_H

#include <stddef.h>

/// Colour spaces the encoder accepts (the number of components per pixel).
enum fish_jpeg_input {
    FISH_JPEG_GRAY = 1,
    FISH_JPEG_RGB = 3,
    FISH_JPEG_CMYK = 4,
    /// CMYK input (4 components) stored as YCCK.
    FISH_JPEG_YCCK = 5,
};

/// Decodes a JPEG held in memory into 8-bit RGB (greyscale, YCbCr, CMYK and YCCK inputs).
/// Refuses images of more than `max_pixels` pixels (returning 2) or with one side over
/// `max_aspect` times the other (returning 3; 0 means no limit) before allocating them.
/// On success returns 0 and sets `*rgb` (free with `fish_jpeg_free`), `*width`, `*height`.
/// On failure returns non-zero and writes a message to `err`.
int fish_jpeg_decode(const unsigned char *data, size_t size, unsigned long long max_pixels,
                     unsigned max_aspect,
                     unsigned char **rgb, int *width, int *height, char *err, size_t err_len);

/// Encodes `components`-channel 8-bit pixels (see `fish_jpeg_input`) as a JPEG in memory.
/// `progressive` selects a progressive scan script. Free `*out` with `fish_jpeg_free`.
int fish_jpeg_encode(const unsigned char *pixels, int width, int height, int components,
                     int quality, int progressive, unsigned char **out, size_t *out_size,
                     char *err, size_t err_len);

void fish_jpeg_free(void *pointer);

#endif
