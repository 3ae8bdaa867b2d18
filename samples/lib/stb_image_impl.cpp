// The one translation unit holding stb_image's implementation.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG  // readable stbi_failure_reason() texts
#include <stb/stb_image.h>
