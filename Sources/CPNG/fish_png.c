// libpng reports errors by longjmp; Swift cannot call setjmp, so each libpng routine that can
// fail runs here behind one setjmp and returns an error code and message to Swift.
#include "fish_png.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fish_png_io {
    const unsigned char *data;
    size_t size;
    size_t position;
    unsigned char *out;
    size_t out_size;
    size_t out_capacity;
    char *err;
    size_t err_len;
};

static void fish_png_error(png_structp png, png_const_charp message) {
    struct fish_png_io *io = png_get_error_ptr(png);
    snprintf(io->err, io->err_len, "%s", message);
    png_longjmp(png, 1);
}

static void fish_png_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static void fish_png_read(png_structp png, png_bytep target, size_t length) {
    struct fish_png_io *io = png_get_io_ptr(png);
    if (length > io->size - io->position) {
        png_error(png, "unexpected end of data (the file is truncated)");
    }
    memcpy(target, io->data + io->position, length);
    io->position += length;
}

static void fish_png_write(png_structp png, png_bytep source, size_t length) {
    struct fish_png_io *io = png_get_io_ptr(png);
    if (io->out_size + length > io->out_capacity) {
        size_t capacity = (io->out_capacity + length) * 2;
        unsigned char *grown = realloc(io->out, capacity);
        if (grown == NULL) png_error(png, "out of memory");
        io->out = grown;
        io->out_capacity = capacity;
    }
    memcpy(io->out + io->out_size, source, length);
    io->out_size += length;
}

static void fish_png_flush(png_structp png) { (void)png; }

/// Whether one side of a `w` x `h` image is more than `max_aspect` times the other (0: no limit).
static int fish_aspect_over(unsigned long long w, unsigned long long h, unsigned max_aspect) {
    return max_aspect != 0 && (w > h * max_aspect || h > w * max_aspect);
}

int fish_png_decode(const unsigned char *data, size_t size, unsigned long long max_pixels,
                    unsigned max_aspect,
                    unsigned char **rgba, int *width, int *height, char *err, size_t err_len) {
    struct fish_png_io io = {.data = data, .size = size, .err = err, .err_len = err_len};
    png_structp png = NULL;
    png_infop info = NULL;
    unsigned char *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;

    *rgba = NULL;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        snprintf(err, err_len, "not a PNG file (bad signature)");
        return 1;
    }
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, fish_png_error, fish_png_warning);
    if (png == NULL || (info = png_create_info_struct(png)) == NULL) {
        snprintf(err, err_len, "out of memory");
        png_destroy_read_struct(&png, NULL, NULL);
        return 1;
    }
    if (setjmp(png_jmpbuf(png))) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    png_set_read_fn(png, &io, fish_png_read);
    png_read_info(png, info);

    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    unsigned long long pixel_count = (unsigned long long)w * h;
    if (pixel_count > max_pixels) {
        snprintf(err, err_len, "image is %ux%u (%llu pixels), over the limit of %llu pixels",
                 w, h, pixel_count, max_pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return 2;
    }
    if (fish_aspect_over(w, h, max_aspect)) {
        snprintf(err, err_len, "image is %ux%u: one side is over %u times the other",
                 w, h, max_aspect);
        png_destroy_read_struct(&png, &info, NULL);
        return 3;
    }

    int color_type = png_get_color_type(png, info);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) {
        png_set_expand_gray_1_2_4_to_8(png);
    }
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    png_set_scale_16(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_gray_to_rgb(png);
    }
    png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    size_t row_bytes = png_get_rowbytes(png, info);
    if (row_bytes != (size_t)w * 4) {
        png_error(png, "unsupported PNG layout after conversion to RGBA");
    }
    pixels = malloc(row_bytes * h);
    rows = malloc(sizeof(png_bytep) * h);
    if (pixels == NULL || rows == NULL) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + (size_t)y * row_bytes;
    png_read_image(png, rows);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    *rgba = pixels;
    *width = (int)w;
    *height = (int)h;
    return 0;
}

int fish_png_encode(const unsigned char *samples, int width, int height, int color_type,
                    int bit_depth, int interlace, const unsigned char *palette, int palette_size,
                    unsigned char **out, size_t *out_size, char *err, size_t err_len) {
    struct fish_png_io io = {.err = err, .err_len = err_len};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, fish_png_error,
                                              fish_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep *volatile rows = NULL;

    *out = NULL;
    if (png == NULL || info == NULL) {
        snprintf(err, err_len, "out of memory");
        png_destroy_write_struct(&png, NULL);
        return 1;
    }
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(io.out);
        png_destroy_write_struct(&png, &info);
        return 1;
    }
    png_set_write_fn(png, &io, fish_png_write, fish_png_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, color_type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color entries[256];
        for (int i = 0; i < palette_size && i < 256; i++) {
            entries[i].red = palette[3 * i];
            entries[i].green = palette[3 * i + 1];
            entries[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, info, entries, palette_size);
    }
    png_write_info(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    rows = malloc(sizeof(png_bytep) * (size_t)height);
    if (rows == NULL) png_error(png, "out of memory");
    for (int y = 0; y < height; y++) rows[y] = (png_bytep)(samples + (size_t)y * row_bytes);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    *out = io.out;
    *out_size = io.out_size;
    return 0;
}

void fish_png_free(void *pointer) { free(pointer); }
