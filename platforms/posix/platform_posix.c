/* Hosted targets (Linux on x86-64, aarch64, armv7): stderr, CLOCK_MONOTONIC,
 * VITRT_KERNELS from the environment, AMX permission through arch_prctl. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

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

const char* vitrt_platform_kernels_override(void) {
  const char* name = getenv("VITRT_KERNELS");
  return name && *name ? name : NULL;
}

int vitrt_platform_request_amx(void) {
#if defined(__linux__) && defined(__x86_64__)
  /* ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA; idempotent. */
  return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
#else
  return 0;
#endif
}
