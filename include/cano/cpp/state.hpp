// cano/cpp/state.hpp - enum class states and their C state codes.
//
// The C API names states by int32_t codes; the wrapper uses the user's enum type and converts
// with the enum's underlying value, so Step::Fetch == 0 in `enum class Step { Fetch, ... }`.
// The underlying type must fit in int32_t.
//
// Since 0.1.0.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

namespace cano::detail {

template <class State>
constexpr std::int32_t state_code(State state) noexcept {
  static_assert(std::is_enum_v<State>, "cano: workflow states must be an enum type");
  using underlying = std::underlying_type_t<State>;
  static_assert(sizeof(underlying) <= sizeof(std::int32_t) &&
                    (std::is_signed_v<underlying> || sizeof(underlying) < sizeof(std::int32_t)),
                "cano: a state enum's underlying type must fit in int32_t");
  return static_cast<std::int32_t>(static_cast<underlying>(state));
}

template <class State>
constexpr State state_from_code(std::int32_t code) noexcept {
  static_assert(std::is_enum_v<State>, "cano: workflow states must be an enum type");
  return static_cast<State>(static_cast<std::underlying_type_t<State>>(code));
}

}  // namespace cano::detail
