#include "src/log.hpp"

#include <spdlog/details/fmt_helper.h>
#include <spdlog/sinks/base_sink.h>

#include <cstdio>
#include <mutex>
#include <string>

namespace cano::detail {
namespace {

// The logger's only sink. spdlog's base_sink<std::mutex> serialises records; the handler is
// swapped under the same mutex, so a record never sees a half-changed handler and a replaced
// handler is never called again once the swap returns.
class DispatchSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  struct Handler {
    cano_log_fn fn = nullptr;
    void* user_data = nullptr;
    void (*destroy)(void*) = nullptr;
  };

  Handler swap(Handler next) {
    std::lock_guard<std::mutex> lock(mutex_);
    Handler previous = handler_;
    handler_ = next;
    return previous;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (handler_.fn != nullptr) {
      std::string text(msg.payload.data(), msg.payload.size());
      handler_.fn(static_cast<cano_log_level>(msg.level), text.c_str(), handler_.user_data);
      return;
    }
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::fwrite(formatted.data(), 1, formatted.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  Handler handler_;
};

DispatchSink& dispatch_sink() {
  static auto* sink = new std::shared_ptr<DispatchSink>(std::make_shared<DispatchSink>());
  return **sink;
}

}  // namespace

spdlog::logger& log() {
  // Never registered in spdlog's global registry, so that a host program's own spdlog
  // configuration (set_level, drop_all, ...) cannot reach it, nor ours the host's. Leaked on
  // purpose: threads of engines destroyed at exit may still log.
  static spdlog::logger* logger = [] {
    auto sink = std::shared_ptr<DispatchSink>(std::shared_ptr<DispatchSink>{}, &dispatch_sink());
    auto* created = new spdlog::logger("cano", sink);
    created->set_level(spdlog::level::warn);
    created->set_pattern("[cano] [%l] %v");
    return created;
  }();
  return *logger;
}

void set_log_handler(cano_log_fn fn, void* user_data, void (*destroy)(void*)) {
  (void)log();
  DispatchSink::Handler previous = dispatch_sink().swap({fn, user_data, destroy});
  if (previous.destroy != nullptr) previous.destroy(previous.user_data);
}

}  // namespace cano::detail
