/* Bare-metal targets without an OS (Cortex-M): no clock, logging through the
 * C library's stdout (semihosting or a retargeted UART), abort spins. A board
 * port copies this file and wires its own UART and cycle counter. */
#include <stdio.h>

#include "vitrt/platform.h"

void vitrt_platform_log(const char* message) {
  fputs("vitrt: ", stdout);
  fputs(message, stdout);
  fputc('\n', stdout);
}

uint64_t vitrt_platform_micros(void) { return 0; }

void vitrt_platform_abort(const char* message) {
  vitrt_platform_log(message);
  for (;;) {
  }
}
