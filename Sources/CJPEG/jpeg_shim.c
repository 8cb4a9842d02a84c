// libjpeg wrapper: setjmp/longjmp error recovery stays in C. See include/CJPEG.h.
#include "CJPEG.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

struct error_manager {
  struct jpeg_error_mgr base;
  jmp_buf jump;
  int truncated;
};

static void on_error(j_common_ptr cinfo) {
  struct error_manager *err = (struct error_manager *)cinfo->err;
  longjmp(err->jump, 1);
}

// libjpeg treats a file that ends early as a warning and pads the image with grey; we
// remember it and fail instead, so a truncated photo is never painted half grey.
static void on_message(j_common_ptr cinfo, int level) {
  struct error_manager *err = (struct error_manager *)cinfo->err;
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) err->truncated = 1;
}

static void set_message(j_common_ptr cinfo, char message[200]) {
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  snprintf(message, 200, "%s", text);
}

void CJPEG_release(CJPEG_Image *image) {
  free(image->pixels);
  free(image->exif);
  image->pixels = NULL;
  image->exif = NULL;
  image->exif_length = 0;
}

void CJPEG_free(void *pointer) { free(pointer); }

int CJPEG_decode(const unsigned char *data, size_t size, long long max_pixels, CJPEG_Image *out) {
  memset(out, 0, sizeof *out);
  struct jpeg_decompress_struct cinfo;
  struct error_manager err;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = on_error;
  err.base.emit_message = on_message;
  err.truncated = 0;
  if (setjmp(err.jump)) {
    set_message((j_common_ptr)&cinfo, out->message);
    jpeg_destroy_decompress(&cinfo);
    CJPEG_release(out);
    return 1;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);

  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    snprintf(out->message, sizeof out->message,
             "CMYK JPEG is not supported; convert it to RGB first");
    jpeg_destroy_decompress(&cinfo);
    return 2;
  }
  if ((long long)cinfo.image_width * (long long)cinfo.image_height > max_pixels) {
    snprintf(out->message, sizeof out->message,
             "declares %ux%u pixels, more than the limit of %lld",
             cinfo.image_width, cinfo.image_height, max_pixels);
    jpeg_destroy_decompress(&cinfo);
    return 3;
  }
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != NULL; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && memcmp(m->data, "Exif\0\0", 6) == 0) {
      out->exif = malloc(m->data_length);
      if (out->exif) {
        memcpy(out->exif, m->data, m->data_length);
        out->exif_length = m->data_length;
      }
      break;
    }
  }

  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  out->width = (int)cinfo.output_width;
  out->height = (int)cinfo.output_height;
  size_t stride = (size_t)out->width * 3;
  out->pixels = malloc(stride * (size_t)out->height);
  if (out->pixels == NULL) {
    snprintf(out->message, sizeof out->message, "out of memory for %dx%d pixels", out->width, out->height);
    jpeg_destroy_decompress(&cinfo);
    CJPEG_release(out);
    return 4;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out->pixels + stride * cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  if (err.truncated) {
    snprintf(out->message, sizeof out->message, "the file is truncated (premature end of JPEG data)");
    CJPEG_release(out);
    return 5;
  }
  return 0;
}

int CJPEG_encode(const unsigned char *pixels, int width, int height, int components, int quality,
                 unsigned char **out, unsigned long *out_size, char message[200]) {
  struct jpeg_compress_struct cinfo;
  struct error_manager err;
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = on_error;
  *out = NULL;
  *out_size = 0;
  if (setjmp(err.jump)) {
    set_message((j_common_ptr)&cinfo, message);
    jpeg_destroy_compress(&cinfo);
    free(*out);
    *out = NULL;
    return 1;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, out, out_size);
  cinfo.image_width = (JDIMENSION)width;
  cinfo.image_height = (JDIMENSION)height;
  cinfo.input_components = components;
  cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 4 ? JCS_CMYK : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  size_t stride = (size_t)width * (size_t)components;
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + stride * cinfo.next_scanline);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return 0;
}
