#ifndef FISH_PNG_H
#define FISH_PNG_H

#include <stddef.h>

/// Decodes a PNG held in memory (any bit depth, grey, palette, alpha, interlaced) into
/// 8-bit RGBA; 16-bit samples are rounded, transparency becomes alpha.
/// Refuses images of more than `max_pixels` pixels (returning 2) or with one side over
/// `max_aspect` times the other (returning 3; 0 means no limit) before allocating them.
/// On success returns 0 and sets `*rgba` (free with `fish_png_free`), `*width`, `*height`.
/// On failure returns non-zero and writes a message to `err`.
int fish_png_decode(const unsigned char *data, size_t size, unsigned long long max_pixels,
                    unsigned max_aspect,
                    unsigned char **rgba, int *width, int *height, char *err, size_t err_len);

/// Encodes raw PNG samples (rows packed as the PNG stores them: big-endian 16-bit samples,
/// palette indices for colour type 3) with libpng. `color_type` and `bit_depth` are PNG's;
/// `interlace` selects Adam7. `palette` holds `palette_size` RGB triples for colour type 3.
/// Free `*out` with `fish_png_free`.
int fish_png_encode(const unsigned char *samples, int width, int height, int color_type,
                    int bit_depth, int interlace, const unsigned char *palette, int palette_size,
                    unsigned char **out, size_t *out_size, char *err, size_t err_len);

void fish_png_free(void *pointer);

#endif
