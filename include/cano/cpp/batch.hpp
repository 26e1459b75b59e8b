// cano/cpp/batch.hpp - batch tasks: cano::batch_config, cano::batch_item and the typed bodies
// of workflow<State>::register_batch.
//
// A batch task (cano 0.13's BatchTask, spec section 3.3; cano/batch.h) runs three steps in each
// attempt: `load` returns the items, `process_item` turns one item into an output (at most
// batch_config::concurrency() items at a time, each with its own retries), and `finish`
// receives every item's outcome in input order and picks the next state:
//
//   wf.register_batch(
//       Step::Import,
//       [](cano::resources& res) { return res.get<Source>("source").ids(); },  // vector<int>
//       [](int id) { return fetch(id); },                                    // std::string
//       [](std::vector<cano::batch_item<std::string>> results) {
//         for (const auto& r : results) if (!r.ok()) return Step::Partial;
//         return Step::Done;
//       },
//       cano::batch_config().with_concurrency(4).with_item_retry(
//           cano::retry_mode::fixed(2, std::chrono::milliseconds(50))));
//
// Items and outputs cross the C ABI as bytes. The wrapper encodes them with
// cano::cursor_codec<T> (cano/cpp/stepped.hpp), the codecs stepped cursors use: std::string,
// std::string_view and std::vector<std::uint8_t> as they are, the integer types as decimal
// text; a C string is kept as std::string. Specialize cursor_codec for your own types. A
// std::string_view item or output handed to a body is borrowed from the engine and valid only
// during that call.
//
// How failures end (cano's rules): an exception thrown by `process_item` fails that item only
// (a cano::error keeps its code and message, any other std::exception becomes
// task_execution_error with what()); the item's retries (batch_config::item_retry, none by
// default) run it again, and its final error is the last attempt's, raw, never
// retry_exhausted_error. `finish` sees it as a failed batch_item and decides. A
// cano::fatal_error thrown by `process_item` is cano's panic: it fails the whole attempt at
// once with that error (the items in flight are abandoned, finish is not called) and ends the
// task's retries. An exception thrown by `load` or `finish` fails the attempt, and the task's
// own retries (the task_config, cano's TaskConfig::default() by default) run load, every item
// and finish again. The task's attempt timeout bounds the whole attempt. An item's errors name
// the task as "NAME[i]", i its input index.
//
// The three bodies run on workers or inline on the loop thread, as the task_config's mode
// says; a batch task cannot be task_mode::async, because an asynchronous load or item could not
// hand its items or its output back.
//
// Since 0.1.0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "cano/batch.h"
#include "cano/split.h"
#include "cano/task.h"
#include "cano/cpp/detail/native_object.hpp"
#include "cano/cpp/error.hpp"
#include "cano/cpp/resources.hpp"
#include "cano/cpp/state.hpp"
#include "cano/cpp/stepped.hpp"
#include "cano/cpp/task.hpp"

namespace cano {

// How a batch task processes its items: how many at once, and each item's retry policy
// (cano's BatchTask::concurrency() and item_retry()). A plain value type whose builders return
// a modified copy, like task_config; register_batch() copies what it needs, so a batch_config
// may be reused for any number of registrations. Any thread that does not modify it
// concurrently. Since 0.1.0.
class batch_config {
 public:
  // cano's defaults: one item at a time, one attempt per item (RetryMode::None).
  // Throws nothing in practice (it only fills in numbers). Since 0.1.0.
  batch_config() : item_retry_(retry_mode::none()) {}

  // At most `items` items are processed at once; 0 means 1, as cano clamps it. An item holds
  // its slot through its retry delays. Since 0.1.0.
  [[nodiscard]] batch_config with_concurrency(std::uint32_t items) const {
    batch_config copy = *this;
    copy.concurrency_ = items == 0 ? 1 : items;
    return copy;
  }

  // Each item's own retry policy: retry.max_attempts() attempts, with retry's delays between
  // them (the item's task_context::attempt() counts them). A default-constructed retry_mode
  // means what it says, cano's default exponential policy (retry_mode::exponential(3)), even
  // though the C ABI reads an unset item retry kind as "none". Since 0.1.0.
  [[nodiscard]] batch_config with_item_retry(const retry_mode& retry) const {
    batch_config copy = *this;
    cano_task_options probe = CANO_TASK_OPTIONS_INIT;
    retry.apply(probe);
    copy.item_retry_ = probe.retry == CANO_RETRY_DEFAULT ? retry_mode::exponential(3) : retry;
    return copy;
  }

  // The number of items processed at once (at least 1). Since 0.1.0.
  std::uint32_t concurrency() const noexcept { return concurrency_; }

  // The item retry policy (retry_mode::none() unless with_item_retry() set another), borrowed
  // from this config. Since 0.1.0.
  const retry_mode& item_retry() const noexcept { return item_retry_; }

  // The C options this config stands for, with load and process_item left NULL:
  // register_batch() sets those. Since 0.1.0.
  cano_batch_options native() const noexcept {
    cano_batch_options options = CANO_BATCH_OPTIONS_INIT;
    options.concurrency = concurrency_;
    cano_task_options fields = CANO_TASK_OPTIONS_INIT;
    item_retry_.apply(fields);
    options.item_retry = fields.retry;
    options.item_retry_max_retries = fields.retry_max_retries;
    options.item_retry_delay_ms = fields.retry_delay_ms;
    options.item_retry_multiplier = fields.retry_multiplier;
    options.item_retry_max_delay_ms = fields.retry_max_delay_ms;
    options.item_retry_jitter = fields.retry_jitter;
    return options;
  }

 private:
  std::uint32_t concurrency_ = 1;
  retry_mode item_retry_;
};

// The outcome of one batch item, as the finish step receives it: the output its process_item
// returned, or the error its last attempt failed with (cano's Result<ItemOutput, CanoError>).
// An owned value (a std::string_view output still borrows the engine's bytes, valid during the
// finish call). Copyable when Output is; copies may be read from any thread. Since 0.1.0.
template <class Output>
class batch_item {
 public:
  // A succeeded item with `value`. Throws what moving Output throws. Since 0.1.0.
  static batch_item success(Output value) {
    batch_item item;
    item.value_.emplace(std::move(value));
    return item;
  }

  // A failed item with `failure`. Never throws (a cano::error copy shares its handle).
  // Since 0.1.0.
  static batch_item failure(cano::error failure) noexcept {
    batch_item item;
    item.error_.emplace(std::move(failure));
    return item;
  }

  // True when the item succeeded. Since 0.1.0.
  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }

  // The item's output. Throws the item's error (its most specific cano::error subclass, as
  // cano::error::rethrow() does) when the item failed, so a finish step that only wants
  // outputs fails its attempt on the first failed item by just reading it. Since 0.1.0.
  const Output& value() const& {
    if (error_) error_->rethrow();
    return *value_;
  }
  Output& value() & {
    if (error_) error_->rethrow();
    return *value_;
  }
  Output&& value() && {
    if (error_) error_->rethrow();
    return std::move(*value_);
  }

  // The error the item's last attempt failed with (raw: never retry_exhausted_error), with the
  // item's task name "NAME[i]" and its attempt; empty when the item succeeded. Borrowed from
  // this object. Since 0.1.0.
  const std::optional<cano::error>& error() const noexcept { return error_; }

 private:
  batch_item() = default;

  std::optional<Output> value_;
  std::optional<cano::error> error_;
};

// The outcome of one item of a batch whose process_item returns void: success, or an error.
// Since 0.1.0.
template <>
class batch_item<void> {
 public:
  // A succeeded item. Since 0.1.0.
  static batch_item success() noexcept { return batch_item(); }

  // A failed item with `failure`. Since 0.1.0.
  static batch_item failure(cano::error failure) noexcept {
    batch_item item;
    item.error_.emplace(std::move(failure));
    return item;
  }

  // True when the item succeeded. Since 0.1.0.
  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }

  // Returns when the item succeeded; throws its error (most specific subclass) otherwise.
  // Since 0.1.0.
  void value() const {
    if (error_) error_->rethrow();
  }

  // The error the item's last attempt failed with; empty when it succeeded. Since 0.1.0.
  const std::optional<cano::error>& error() const noexcept { return error_; }

 private:
  batch_item() = default;

  std::optional<cano::error> error_;
};

// What the finish step receives: one batch_item per loaded item, in input order.
// Since 0.1.0.
template <class Output>
using batch_results = std::vector<batch_item<Output>>;

namespace detail {

// The type an item or an output is kept as: its decayed type, C strings as std::string.
template <class T>
using batch_value_t = stored_type_t<T>;

// The item type of a load body's result: std::vector<T> holds T items.
template <class Loaded>
struct batch_loaded {
  static constexpr bool is_vector = false;
  using item = void;
};
template <class T, class Alloc>
struct batch_loaded<std::vector<T, Alloc>> {
  static constexpr bool is_vector = true;
  using item = batch_value_t<T>;
};

// Which form a process_item body P has for items of type Item: with the task context and the
// item, or with the item only (checked in that order, stopping at the first that fits).
template <class P, class Item>
struct batch_process_form {
  using takes_context = std::is_invocable<P&, task_context&, Item>;
  using takes_item = std::is_invocable<P&, Item>;
  static constexpr bool with_context = takes_context::value;
  static constexpr bool any = std::disjunction_v<takes_context, takes_item>;
};

template <class P, class Item, class = void>
struct batch_process_result {
  using type = void;
};
template <class P, class Item>
struct batch_process_result<P, Item, std::enable_if_t<batch_process_form<P, Item>::with_context>> {
  using type = std::invoke_result_t<P&, task_context&, Item>;
};
template <class P, class Item>
struct batch_process_result<P, Item,
                            std::enable_if_t<!batch_process_form<P, Item>::with_context &&
                                             batch_process_form<P, Item>::any>> {
  using type = std::invoke_result_t<P&, Item>;
};

// The output type of an item: what process_item returns, kept as batch_value_t.
template <class R>
struct batch_output {
  using type = batch_value_t<R>;
};
template <>
struct batch_output<void> {
  using type = void;
};

// Which form a finish body F has for results of type Results: with the task context, with the
// run's resources, or with the results only (checked in that order).
template <class F, class Results>
struct batch_finish_form {
  using takes_context = std::is_invocable<F&, task_context&, Results>;
  using takes_resources = std::is_invocable<F&, cano::resources&, Results>;
  using takes_results = std::is_invocable<F&, Results>;
  static constexpr bool with_context = takes_context::value;
  static constexpr bool with_resources =
      std::conjunction_v<std::negation<takes_context>, takes_resources>;
  static constexpr bool any = std::disjunction_v<takes_context, takes_resources, takes_results>;
};

template <class F, class Results, class = void>
struct batch_finish_result {
  using type = void;
};
template <class F, class Results>
struct batch_finish_result<F, Results,
                           std::enable_if_t<batch_finish_form<F, Results>::with_context>> {
  using type = std::invoke_result_t<F&, task_context&, Results>;
};
template <class F, class Results>
struct batch_finish_result<F, Results,
                           std::enable_if_t<batch_finish_form<F, Results>::with_resources>> {
  using type = std::invoke_result_t<F&, cano::resources&, Results>;
};
template <class F, class Results>
struct batch_finish_result<F, Results,
                           std::enable_if_t<!batch_finish_form<F, Results>::with_context &&
                                            !batch_finish_form<F, Results>::with_resources &&
                                            batch_finish_form<F, Results>::any>> {
  using type = std::invoke_result_t<F&, Results>;
};

// The user data of a batch task: its three bodies, and the item and output types they agree
// on. The static_asserts name the form each body must have.
template <class State, class Load, class Process, class Finish>
struct batch_task {
  static_assert(plain_form<Load>::any,
                "cano: a batch load must be callable as std::vector<Item>(cano::task_context&), "
                "std::vector<Item>(cano::resources&) or std::vector<Item>()");
  using loaded = std::decay_t<plain_result_t<Load>>;
  static_assert(batch_loaded<loaded>::is_vector,
                "cano: a batch load must return a std::vector of items");
  using item_type = typename batch_loaded<loaded>::item;

  static_assert(batch_process_form<Process, item_type>::any,
                "cano: a batch process_item must be callable as Output(cano::task_context&, Item) "
                "or Output(Item), Item being the element type of what load returns");
  using output_type =
      typename batch_output<typename batch_process_result<Process, item_type>::type>::type;

  using results_type = batch_results<output_type>;
  static_assert(batch_finish_form<Finish, results_type>::any,
                "cano: a batch finish must be callable as State(cano::task_context&, "
                "std::vector<cano::batch_item<Output>>), State(cano::resources&, "
                "std::vector<cano::batch_item<Output>>) or "
                "State(std::vector<cano::batch_item<Output>>)");
  static_assert(
      std::is_convertible_v<typename batch_finish_result<Finish, results_type>::type, State>,
      "cano: a batch finish must return the workflow's state type");

  using load_type = Load;
  using process_type = Process;
  using finish_type = Finish;

  Load load;
  Process process_item;
  Finish finish;
};

// Encodes an item or an output with its cursor_codec; a NULL C string is "".
template <class Kept, class T>
std::string encode_batch_value(const T& value) {
  if constexpr (std::is_pointer_v<T>) {
    return value == nullptr ? std::string() : std::string(value);
  } else {
    return cursor_codec<Kept>::encode(value);
  }
}

// The C load callback: calls load and adds every item it returned, encoded.
template <class Holder>
cano_status run_batch_load(cano_task_ctx* ctx, void* user_data) noexcept {
  auto& task = *static_cast<Holder*>(user_data);
  using item_type = typename Holder::item_type;
  try {
    task_context context(ctx);
    auto items = invoke_plain(task.load, context);
    for (const auto& item : items) {
      std::string bytes = encode_batch_value<item_type>(item);
      cano_status status = cano_task_ctx_batch_add(ctx, bytes.data(), bytes.size());
      if (status < 0) throw_error(status, nullptr);
    }
    return CANO_OK;
  } catch (...) {
    return fail_attempt(ctx, std::current_exception());
  }
}

// The C process_item callback: decodes the item, calls process_item and leaves its output.
template <class Holder>
cano_status run_batch_item(cano_task_ctx* ctx, void* user_data) noexcept {
  auto& task = *static_cast<Holder*>(user_data);
  using item_type = typename Holder::item_type;
  using output_type = typename Holder::output_type;
  try {
    const void* data = nullptr;
    std::size_t len = 0;
    if (cano_task_ctx_batch_item(ctx, nullptr, &data, &len) == 0) {
      throw internal_error("a batch item body was called without an item");
    }
    std::string_view bytes =
        len == 0 ? std::string_view() : std::string_view(static_cast<const char*>(data), len);
    item_type item = cursor_codec<item_type>::decode(bytes);
    task_context context(ctx);
    auto call = [&]() -> decltype(auto) {
      if constexpr (batch_process_form<typename Holder::process_type, item_type>::with_context) {
        return std::invoke(task.process_item, context, std::move(item));
      } else {
        return std::invoke(task.process_item, std::move(item));
      }
    };
    if constexpr (std::is_void_v<output_type>) {
      call();
    } else {
      auto&& output = call();
      std::string encoded = encode_batch_value<output_type>(output);
      cano_status status = cano_task_ctx_set_value(ctx, encoded.data(), encoded.size());
      if (status < 0) throw_error(status, nullptr);
    }
    return CANO_OK;
  } catch (...) {
    return fail_attempt(ctx, std::current_exception());
  }
}

// Every item's outcome from the C results, decoded, in input order. Throws what decoding an
// output throws, std::bad_alloc, or internal_error when the library hands no results.
template <class Output>
batch_results<Output> read_batch_results(const cano_split_result* results) {
  if (results == nullptr) throw internal_error("a batch finish step was called without results");
  const std::size_t count = cano_split_result_count(results);
  batch_results<Output> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (cano_split_result_status(results, i) == CANO_BRANCH_SUCCEEDED) {
      if constexpr (std::is_void_v<Output>) {
        out.push_back(batch_item<void>::success());
      } else {
        std::size_t len = 0;
        const void* data = cano_split_result_value(results, i, &len);
        std::string_view bytes = data == nullptr || len == 0
                                     ? std::string_view()
                                     : std::string_view(static_cast<const char*>(data), len);
        out.push_back(batch_item<Output>::success(cursor_codec<Output>::decode(bytes)));
      }
      continue;
    }
    const cano_error* failure = cano_split_result_error(results, i);
    cano_error* copy = failure != nullptr ? cano_error_clone(failure) : nullptr;
    if (copy != nullptr) {
      out.push_back(batch_item<Output>::failure(cano::error(adopt, copy)));
    } else if (failure != nullptr) {
      throw std::bad_alloc();
    } else {
      // Never CANO_BRANCH_CANCELLED in a batch (cano/batch.h); kept total all the same.
      out.push_back(batch_item<Output>::failure(
          internal_error("batch item " + std::to_string(i) + " has no outcome")));
    }
  }
  return out;
}

// The C finish callback (the task's own body): hands every outcome to finish and records the
// state it picked.
template <class State, class Holder>
cano_status run_batch_finish(cano_task_ctx* ctx, void* user_data) noexcept {
  auto& task = *static_cast<Holder*>(user_data);
  using results_type = typename Holder::results_type;
  using form = batch_finish_form<typename Holder::finish_type, results_type>;
  try {
    task_context context(ctx);
    results_type results =
        read_batch_results<typename Holder::output_type>(cano_task_ctx_batch_results(ctx));
    auto call = [&]() -> State {
      if constexpr (form::with_context) {
        return std::invoke(task.finish, context, std::move(results));
      } else if constexpr (form::with_resources) {
        cano::resources res = context.resources();
        return std::invoke(task.finish, res, std::move(results));
      } else {
        return std::invoke(task.finish, std::move(results));
      }
    };
    return cano_task_ctx_next(ctx, state_code(call()));
  } catch (...) {
    return fail_attempt(ctx, std::current_exception());
  }
}

}  // namespace detail

}  // namespace cano
