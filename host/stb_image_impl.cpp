// The one translation unit holding stb_image's (and stb_image_write's) implementation. Only the PNG
// and JPEG decoders are compiled in: the others (PNM, TGA, BMP, PSD, HDR,
// GIF, PIC) are where stb 2.27's known memory-safety bugs live, and the tools
// promise only PNG and JPEG. preprocess.cpp caps sizes before decoding.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_FAILURE_USERMSG  // readable stbi_failure_reason() texts
#include <stb/stb_image.h>

// stb_image_write: PNG/JPEG output for the tools (attention maps) and for
// tests that need real encoded images.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
