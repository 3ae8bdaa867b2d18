// Error text built into a fixed buffer. The runtime avoids printf: newlib's
// formatter may allocate, and only integers and names are ever printed.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <type_traits>

namespace vitrt {

class Message {
 public:
  Message(char* buf, size_t cap) : buf_(buf), cap_(cap) { buf_[0] = '\0'; }

  Message& operator<<(const char* s) {
    while (s && *s) put(*s++);
    return *this;
  }
  // Any integer type: int32_t is `long` on some targets, `int` on others.
  template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
  Message& operator<<(T v) {
    uint64_t u = static_cast<uint64_t>(v);
    if (std::is_signed_v<T> && v < 0) {
      put('-');
      u = 0 - u;
    }
    char digits[20];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u);
    while (n) put(digits[--n]);
    return *this;
  }

 private:
  void put(char c) {
    if (len_ + 1 >= cap_) return;  // truncate, always NUL-terminated
    buf_[len_++] = c;
    buf_[len_] = '\0';
  }
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
};

}  // namespace vitrt
