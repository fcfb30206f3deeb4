// libjpeg reports errors by longjmp from its error callbacks; Swift cannot call setjmp,
// so every libjpeg call that can fail runs here, behind one setjmp error manager.
#include "fish_jpeg.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

struct fish_error_mgr {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *err;
    size_t err_len;
};

static void fish_error_exit(j_common_ptr cinfo) {
    struct fish_error_mgr *mgr = (struct fish_error_mgr *)cinfo->err;
    char message[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, message);
    snprintf(mgr->err, mgr->err_len, "%s", message);
    longjmp(mgr->jump, 1);
}

// Warnings are ignored, except a premature end of data: libjpeg would fill the missing
// rows with grey, and a truncated photo must be an error, not a silently wrong input.
static void fish_emit_message(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        fish_error_exit(cinfo);
    }
}

static void fish_install_errors(struct jpeg_error_mgr *base, struct fish_error_mgr *mgr,
                                char *err, size_t err_len) {
    jpeg_std_error(base);
    base->error_exit = fish_error_exit;
    base->emit_message = fish_emit_message;
    mgr->err = err;
    mgr->err_len = err_len;
}

// Converts one CMYK scanline to RGB in place order (4 -> 3 bytes per pixel).
// Adobe writers store CMYK inverted, so for them the stored values multiply directly.
static void cmyk_row_to_rgb(const JSAMPLE *cmyk, unsigned char *rgb, JDIMENSION width, int inverted) {
    for (JDIMENSION x = 0; x < width; x++) {
        unsigned c = cmyk[4 * x], m = cmyk[4 * x + 1], y = cmyk[4 * x + 2], k = cmyk[4 * x + 3];
        if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
        rgb[3 * x] = (unsigned char)((c * k + 127) / 255);
        rgb[3 * x + 1] = (unsigned char)((m * k + 127) / 255);
        rgb[3 * x + 2] = (unsigned char)((y * k + 127) / 255);
    }
}

/// Whether one side of a `w` x `h` image is more than `max_aspect` times the other (0: no limit).
static int fish_aspect_over(unsigned long long w, unsigned long long h, unsigned max_aspect) {
    return max_aspect != 0 && (w > h * max_aspect || h > w * max_aspect);
}

int fish_jpeg_decode(const unsigned char *data, size_t size, unsigned long long max_pixels,
                     unsigned max_aspect,
                     unsigned char **rgb, int *width, int *height, char *err, size_t err_len) {
    struct jpeg_decompress_struct cinfo;
    struct fish_error_mgr mgr;
    unsigned char *volatile pixels = NULL;
    JSAMPLE *volatile row = NULL;

    *rgb = NULL;
    cinfo.err = &mgr.base;
    fish_install_errors(&mgr.base, &mgr, err, err_len);
    if (setjmp(mgr.jump)) {
        free(pixels);
        free(row);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);

    unsigned long long pixel_count = (unsigned long long)cinfo.image_width * cinfo.image_height;
    if (pixel_count > max_pixels) {
        snprintf(err, err_len, "image is %ux%u (%llu pixels), over the limit of %llu pixels",
                 cinfo.image_width, cinfo.image_height, pixel_count, max_pixels);
        jpeg_destroy_decompress(&cinfo);
        return 2;
    }
    if (fish_aspect_over(cinfo.image_width, cinfo.image_height, max_aspect)) {
        snprintf(err, err_len, "image is %ux%u: one side is over %u times the other",
                 cinfo.image_width, cinfo.image_height, max_aspect);
        jpeg_destroy_decompress(&cinfo);
        return 3;
    }

    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    int inverted = cmyk && cinfo.saw_Adobe_marker;
    cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    cinfo.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&cinfo);

    JDIMENSION w = cinfo.output_width, h = cinfo.output_height;
    pixels = malloc((size_t)w * h * 3);
    row = malloc((size_t)w * cinfo.output_components);
    if (pixels == NULL || row == NULL) {
        snprintf(err, err_len, "out of memory for a %ux%u image", w, h);
        longjmp(mgr.jump, 1);
    }
    while (cinfo.output_scanline < h) {
        unsigned char *dest = pixels + (size_t)cinfo.output_scanline * w * 3;
        JSAMPROW target = cmyk ? row : dest;
        jpeg_read_scanlines(&cinfo, &target, 1);
        if (cmyk) cmyk_row_to_rgb(row, dest, w, inverted);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    *rgb = pixels;
    *width = (int)w;
    *height = (int)h;
    return 0;
}

int fish_jpeg_encode(const unsigned char *pixels, int width, int height, int components,
                     int quality, int progressive, unsigned char **out, size_t *out_size,
                     char *err, size_t err_len) {
    struct jpeg_compress_struct cinfo;
    struct fish_error_mgr mgr;
    unsigned char *buffer = NULL;
    unsigned long buffer_size = 0;

    *out = NULL;
    cinfo.err = &mgr.base;
    fish_install_errors(&mgr.base, &mgr, err, err_len);
    if (setjmp(mgr.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return 1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &buffer, &buffer_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    int ycck = components == FISH_JPEG_YCCK;
    if (ycck) components = FISH_JPEG_CMYK;
    cinfo.input_components = components;
    cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    if (ycck) jpeg_set_colorspace(&cinfo, JCS_YCCK);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * width * components);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = buffer;
    *out_size = buffer_size;
    return 0;
}

void fish_jpeg_free(void *pointer) { free(pointer); }
