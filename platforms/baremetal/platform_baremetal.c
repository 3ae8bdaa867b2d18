/* Bare-metal targets without an OS (Cortex-M): no clock; logging through the
 * C library's low-level _write (semihosting with rdimon, or a board's
 * retargeted UART) rather than stdio, whose buffers would pull in malloc;
 * abort spins. A board port copies this file and wires its own UART and
 * cycle counter. */
#include <string.h>

#include "vitrt/platform.h"

int _write(int fd, const char* buf, int len);

static void write_str(const char* s) { _write(1, s, (int)strlen(s)); }

void vitrt_platform_log(const char* message) {
  write_str("vitrt: ");
  write_str(message);
  write_str("\n");
}

uint64_t vitrt_platform_micros(void) { return 0; }

void vitrt_platform_abort(const char* message) {
  vitrt_platform_log(message);
  for (;;) {
  }
}

const char* vitrt_platform_kernels_override(void) { return NULL; }

int vitrt_platform_request_amx(void) { return 0; }
