// libpng 1.6 through its "simplified" API (png_image_*), which reports failure through a
// return value and image.message instead of longjmp, so Swift can call it directly.
#include <png.h>
#include <string.h>

#define CPNG_SHIM static inline __attribute__((__always_inline__))

/// A zeroed png_image with the version field set, as the simplified API requires.
CPNG_SHIM png_image CPNG_image(void) {
  png_image image;
  memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  return image;
}

/// The error or warning text libpng left in the image (NUL-terminated, at most 63 chars).
CPNG_SHIM const char *CPNG_message(const png_image *image) { return image->message; }

CPNG_SHIM png_uint_32 CPNG_FORMAT_RGB(void) { return PNG_FORMAT_RGB; }
