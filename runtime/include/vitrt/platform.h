/* Platform layer: the few services the runtime core needs from its host.
 * platforms/<target>/ provides one implementation; a bare-metal port
 * replaces that file and nothing else. */
#ifndef VITRT_PLATFORM_H
#define VITRT_PLATFORM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Write one diagnostic line (no trailing newline needed). */
void vitrt_platform_log(const char* message);

/* Monotonic time in microseconds; 0 where no clock exists. */
uint64_t vitrt_platform_micros(void);

/* Called on an internal invariant violation; must not return. */
void vitrt_platform_abort(const char* message);

/* The kernel set to use instead of the fastest one (the VITRT_KERNELS
 * environment variable on hosted targets), or NULL for none. */
const char* vitrt_platform_kernels_override(void);

/* x86 AMX: ask the OS for permission to use tile data in this process (Linux
 * needs arch_prctl(ARCH_REQ_XCOMP_PERM) once); non-zero when granted. Ports
 * without AMX return 0. */
int vitrt_platform_request_amx(void);

#ifdef __cplusplus
}
#endif

#endif /* VITRT_PLATFORM_H */
