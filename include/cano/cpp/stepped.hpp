// cano/cpp/stepped.hpp - stepped tasks: step_result<State>, cano::more(), cano::done() and the
// cursor codecs.
//
// A stepped task (workflow<State>::register_stepped) does resumable iterative work one step at a
// time. Each step gets the cursor the previous step left (none on the first step) and answers
// with a step_result: more(cursor) asks for another step from that cursor, done(next) (or just
// a state) finishes the task (cano 0.13 StepOutcome, spec section 3.4):
//
//   wf.register_stepped(Step::Import,
//       [&](cano::task_context&, std::optional<std::string_view> cursor)
//           -> cano::step_result<Step> {
//         std::string page = cursor ? std::string(*cursor) : first_page();
//         std::optional<std::string> next = import_page(page);
//         if (next) return cano::more(*next);
//         return cano::done(Step::Done);
//       });
//
// Cursors are bytes. A typed cursor goes through cano::cursor_codec<T>, which encodes it into
// those bytes and decodes it back: register_stepped<int>(...) hands the body a
// std::optional<int>. The codecs provided are std::string, std::string_view and
// std::vector<std::uint8_t> (the bytes as they are) and the integer types but bool and the
// character types (decimal text, which is also the JSON number the other bindings would write);
// specialize cursor_codec for your own types.
//
// Registered with register_stepped, each step is its own attempt loop: the config's retries and
// attempt timeout apply per step, a retry gets the same cursor again, and a step that fails for
// good fails the task. A task registered with register_task (or register_router, or a timer's
// body) may return more(...) too, reading the cursor with task_context::cursor(): then the whole
// loop is one attempt, bounded by one attempt timeout, and a retry starts again without a cursor.
//
// Since 0.1.0.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "cano/stepped.h"
#include "cano/task.h"
#include "cano/cpp/error.hpp"
#include "cano/cpp/state.hpp"

namespace cano {

// Converts a typed cursor to the bytes the engine keeps, and back. Specialize it for a type T
// with `static std::string encode(const T&)` and `static T decode(std::string_view bytes)`;
// decode may throw (the step's attempt then fails with what it threw). The primary template is
// left undefined, so a type without a codec does not compile. Since 0.1.0.
template <class T, class = void>
struct cursor_codec;

// The bytes as they are. Since 0.1.0.
template <>
struct cursor_codec<std::string> {
  static std::string encode(const std::string& cursor) { return cursor; }
  static std::string decode(std::string_view bytes) { return std::string(bytes); }
};

// The bytes as they are; a decoded view is borrowed from the engine and valid only during the
// body call that received it. Since 0.1.0.
template <>
struct cursor_codec<std::string_view> {
  static std::string encode(std::string_view cursor) { return std::string(cursor); }
  static std::string_view decode(std::string_view bytes) noexcept { return bytes; }
};

// The bytes as they are. Since 0.1.0.
template <>
struct cursor_codec<std::vector<std::uint8_t>> {
  static std::string encode(const std::vector<std::uint8_t>& cursor) {
    return std::string(cursor.begin(), cursor.end());
  }
  static std::vector<std::uint8_t> decode(std::string_view bytes) {
    return std::vector<std::uint8_t>(bytes.begin(), bytes.end());
  }
};

namespace detail {

template <class T>
constexpr bool is_character_v =
    std::is_same_v<T, char> || std::is_same_v<T, signed char> ||
    std::is_same_v<T, unsigned char> || std::is_same_v<T, wchar_t> ||
    std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;

template <class T>
constexpr bool is_counter_v =
    std::is_integral_v<T> && !std::is_same_v<T, bool> && !is_character_v<T>;

}  // namespace detail

// An integer as decimal text ("42", "-7"). decode throws task_execution_error for anything
// else (including text outside T's range), which fails the step's attempt. Since 0.1.0.
template <class T>
struct cursor_codec<T, std::enable_if_t<detail::is_counter_v<T>>> {
  static std::string encode(T cursor) { return std::to_string(cursor); }
  static T decode(std::string_view bytes) {
    T value{};
    const char* first = bytes.data();
    const char* last = bytes.data() + bytes.size();
    auto [end, status] = std::from_chars(first, last, value);
    if (bytes.empty() || status != std::errc() || end != last) {
      throw task_execution_error("cursor \"" + std::string(bytes) +
                                 "\" is not a decimal integer of the step's cursor type");
    }
    return value;
  }
};

namespace detail {

// The codec a value passed to cano::more() uses: its decayed type, with C strings as
// std::string_view.
template <class T>
struct cursor_key {
  using type = std::decay_t<T>;
};
template <>
struct cursor_key<const char*> {
  using type = std::string_view;
};
template <>
struct cursor_key<char*> {
  using type = std::string_view;
};
template <class T>
using cursor_key_t = typename cursor_key<std::decay_t<T>>::type;

}  // namespace detail

// What a "more" answer carries: the encoded cursor of the next step. Made by cano::more();
// converts to step_result<State> for every State. Since 0.1.0.
struct step_more {
  std::string cursor;
};

// "Another step, from this cursor" (StepOutcome::Continue). `cursor` is encoded with
// cursor_codec (a string, a string_view, a C string or bytes as they are; an integer as
// decimal text). Throws std::bad_alloc, and whatever the codec's encode throws. Since 0.1.0.
template <class T>
step_more more(const T& cursor) {
  return step_more{cursor_codec<detail::cursor_key_t<T>>::encode(cursor)};
}

// The answer of one step: another step with a cursor, or done with the next state. A plain
// value type. Since 0.1.0.
template <class State>
class step_result {
  static_assert(std::is_enum_v<State>, "cano::step_result<State>: State must be an enum type");

 public:
  // Done: the task finishes and the run moves to `next` (StepOutcome::Complete). Implicit, so a
  // body declared `-> cano::step_result<Step>` may `return Step::Done;`.
  step_result(State next) noexcept : done_(true), next_(next) {}  // NOLINT

  // Another step from the answer's cursor (StepOutcome::Continue).
  step_result(step_more answer) noexcept  // NOLINT
      : done_(false), next_(), cursor_(std::move(answer.cursor)) {}

  static step_result done(State next) noexcept { return step_result(next); }
  template <class T>
  static step_result more(const T& cursor) {
    return step_result(cano::more(cursor));
  }

  bool is_done() const noexcept { return done_; }
  bool is_more() const noexcept { return !done_; }
  // The next state; meaningful only when is_done().
  State next() const noexcept { return next_; }
  // The encoded cursor of the next step; empty when is_done().
  const std::string& cursor() const noexcept { return cursor_; }

 private:
  bool done_;
  State next_;
  std::string cursor_;
};

// "Done: go to `next`", as a step_result<State> deduced from the state. Since 0.1.0.
template <class State>
step_result<State> done(State next) noexcept {
  return step_result<State>(next);
}

namespace detail {

// Records a step's answer in the C context and returns what the body returns: CANO_STEP_MORE
// (through cano_task_ctx_step_more, which copies the cursor) or cano_task_ctx_next's status.
template <class State>
cano_status answer_step(cano_task_ctx* ctx, const step_result<State>& answer) noexcept {
  if (answer.is_done()) return cano_task_ctx_next(ctx, state_code(answer.next()));
  const std::string& cursor = answer.cursor();
  return cano_task_ctx_step_more(ctx, cursor.data(), cursor.size());
}

}  // namespace detail

}  // namespace cano
