// cano/cpp/string_ref.hpp - a borrowed, NUL-terminated string argument.
//
// The C API takes `const char *` everywhere, so the wrapper's parameters accept both string
// literals and std::string without copying: string_ref only remembers the pointer. It must not
// outlive the string it was made from, which is why it is meant for parameters only.
//
// Since 0.1.0.
#pragma once

#include <string>

namespace cano {

class string_ref {
 public:
  // A NULL pointer is read as "" so that a C API call never sees NULL by accident.
  string_ref(const char* text) noexcept : text_(text == nullptr ? "" : text) {}  // NOLINT
  string_ref(const std::string& text) noexcept : text_(text.c_str()) {}          // NOLINT

  const char* c_str() const noexcept { return text_; }
  std::string str() const { return text_; }

 private:
  const char* text_;
};

}  // namespace cano
