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

#ifdef __cplusplus
}
#endif

#endif /* VITRT_PLATFORM_H */
