// JPEG decoding and encoding with libjpeg(-turbo), wrapped in C because libjpeg reports
// fatal errors by longjmp, which Swift cannot do. Every function returns 0 on success and
// otherwise leaves a one-line reason in `message`.
#ifndef CJPEG_H
#define CJPEG_H

#include <stddef.h>

typedef struct {
  int width;
  int height;
  /// Interleaved 8-bit RGB, width·height·3 bytes, malloc'd; release with CJPEG_release.
  unsigned char *pixels;
  /// The APP1 "Exif" payload (starting with "Exif\0\0"), or NULL; malloc'd.
  unsigned char *exif;
  size_t exif_length;
  char message[200];
} CJPEG_Image;

/// Decodes a JPEG held in memory to RGB (grey is expanded; CMYK and YCCK are refused).
/// A file declaring more than `max_pixels` pixels is refused before any pixel buffer is
/// allocated; a truncated file is an error, not a grey-padded image.
int CJPEG_decode(const unsigned char *data, size_t size, long long max_pixels, CJPEG_Image *out);

/// Frees what CJPEG_decode allocated (safe on a zeroed or failed image).
void CJPEG_release(CJPEG_Image *image);

/// Encodes interleaved 8-bit pixels to a malloc'd JPEG buffer (`*out`, `*out_size`; release
/// with CJPEG_free). `components`: 3 = RGB, 1 = grey, 4 = CMYK (the last two for tests).
int CJPEG_encode(const unsigned char *pixels, int width, int height, int components, int quality,
                 unsigned char **out, unsigned long *out_size, char message[200]);

void CJPEG_free(void *pointer);

#endif
