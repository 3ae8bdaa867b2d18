/* Hosted targets (Linux on x86-64, aarch64, armv7): stderr, CLOCK_MONOTONIC. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vitrt/platform.h"

void vitrt_platform_log(const char* message) { fprintf(stderr, "vitrt: %s\n", message); }

uint64_t vitrt_platform_micros(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void vitrt_platform_abort(const char* message) {
  fprintf(stderr, "vitrt: fatal: %s\n", message);
  abort();
}
