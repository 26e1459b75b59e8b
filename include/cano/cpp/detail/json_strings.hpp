// cano/cpp/detail/json_strings.hpp - reads a JSON array of strings (internal).
//
// cano_store_keys() returns the keys as JSON text. The wrapper must not depend on a JSON
// library, so it carries this small reader for exactly that shape: an array of strings with
// the escapes JSON allows, \uXXXX (and surrogate pairs) becoming UTF-8.
//
// Since 0.1.0.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace cano::detail {

class json_string_array_reader {
 public:
  explicit json_string_array_reader(const char* text) : p_(text) {}

  std::vector<std::string> read() {
    std::vector<std::string> items;
    skip_space();
    expect('[');
    skip_space();
    if (*p_ == ']') return items;
    for (;;) {
      skip_space();
      items.push_back(read_string());
      skip_space();
      if (*p_ == ']') return items;
      expect(',');
    }
  }

 private:
  [[noreturn]] static void malformed() {
    throw std::runtime_error("cano: malformed JSON string array from the library");
  }

  void skip_space() {
    while (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r') ++p_;
  }

  void expect(char c) {
    if (*p_ != c) malformed();
    ++p_;
  }

  std::uint32_t read_hex4() {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      char c = *p_++;
      value <<= 4;
      if (c >= '0' && c <= '9') value |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') value |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') value |= static_cast<std::uint32_t>(c - 'A' + 10);
      else malformed();
    }
    return value;
  }

  static void put_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string read_string() {
    expect('"');
    std::string out;
    for (;;) {
      char c = *p_++;
      if (c == '\0') malformed();
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = *p_++;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp = read_hex4();
          // A high surrogate followed by an escaped low surrogate encodes one code point.
          if (cp >= 0xD800 && cp <= 0xDBFF && p_[0] == '\\' && p_[1] == 'u') {
            p_ += 2;
            std::uint32_t low = read_hex4();
            if (low < 0xDC00 || low > 0xDFFF) malformed();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default: malformed();
      }
    }
  }

  const char* p_;
};

// The strings of a JSON array of strings; throws std::runtime_error on anything else.
inline std::vector<std::string> parse_json_string_array(const char* text) {
  return json_string_array_reader(text).read();
}

}  // namespace cano::detail
