#include "src/engine.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <random>

#include "src/log.hpp"
#include "src/resource_lifecycle.hpp"
#include "src/run.hpp"
#include "src/task_ctx.hpp"
#include "src/workflow.hpp"

using cano::detail::Error;
using cano::detail::fail;

namespace {
// The default spin of idle workers and of the loop while worker jobs are in flight, chosen with
// bench/transition_bench.cpp on a 2-core VM (see README "Performance").
constexpr uint32_t kDefaultSpinUs = 50;
// Timers fired in one batch before the loop gets to do other work.
constexpr int kTimerBatch = 10000;
}  // namespace

cano_engine::cano_engine(const cano_engine_options& options) : options_(options) {
  manual_clock_ = options.clock == CANO_CLOCK_MANUAL;
  manual_now_ = options.manual_clock_start_ms;
  clock_reading_.store(manual_now_);
  rng_state_ = options.random_seed != 0 ? options.random_seed : std::random_device{}() | 1ULL;
  if (options.spin_us < 0) {
    spin_us_ = 0;
  } else {
    spin_us_ = options.spin_us == 0 ? kDefaultSpinUs : static_cast<uint32_t>(options.spin_us);
  }
}

cano_engine::~cano_engine() { shutdown(); }

void cano_engine::start() {
  if (uv_loop_init(&loop_) != 0) fail(CANO_E_INTERNAL, "could not initialise the event loop");
  loop_.data = this;
  uv_async_init(&loop_, &wake_, &cano_engine::on_wake);
  uv_timer_init(&loop_, &uv_timer_);
  uv_prepare_init(&loop_, &prepare_);
  uv_prepare_start(&prepare_, &cano_engine::on_prepare);
  wake_.data = uv_timer_.data = prepare_.data = this;
  mailbox_.bind(&wake_);

  uint32_t workers = options_.worker_threads;
  if (workers == 0) workers = std::max(2u, std::thread::hardware_concurrency());
  pool_.start(workers, spin_us_);

  std::promise<std::thread::id> ready;
  auto started = ready.get_future();
  loop_thread_ = std::thread([this, &ready] {
    ready.set_value(std::this_thread::get_id());
    run_loop();
  });
  loop_thread_id_ = started.get();
  started_ = true;
}

void cano_engine::run_loop() {
  // The loop ends when shutdown closes the engine's handles.
  uv_run(&loop_, UV_RUN_DEFAULT);
}

void cano_engine::shutdown() {
  std::lock_guard<std::mutex> lock(shutdown_mutex_);
  if (shut_down_) return;
  shut_down_ = true;
  if (!started_) {
    pool_.stop();
    return;
  }
  mailbox_.post({&cano_engine::begin_shutdown, this});
  loop_thread_.join();
  pool_.stop();
  std::unordered_map<uint64_t, cano_task_ctx*> orphans;
  {
    std::lock_guard<std::mutex> tokens(token_mutex_);
    tokens_closed_ = true;
    orphans.swap(tokens_);
  }
  for (auto& entry : orphans) cano::detail::release_ctx(entry.second);
  lifecycles_.clear();
  uv_loop_close(&loop_);
}

void cano_engine::begin_shutdown(void* self) {
  auto* engine = static_cast<cano_engine*>(self);
  engine->stopping_ = true;
  std::vector<cano::detail::Run*> runs;
  runs.reserve(engine->runs_.size());
  for (auto& entry : engine->runs_) runs.push_back(entry.second);
  for (auto* run : runs) {
    // A run may end synchronously inside abort (and be deleted), so look it up again.
    if (engine->runs_.count(run->id()) == 0) continue;
    run->abort(CANO_E_SHUTDOWN,
               "the engine shut down while run " + std::to_string(run->id()) + " was in flight");
  }
  engine->maybe_finish_shutdown();
}

void cano_engine::maybe_finish_shutdown() {
  if (!stopping_ || handles_closed_ || !runs_.empty() || outstanding_jobs_ > 0) return;
  handles_closed_ = true;
  mailbox_.close();
  // Messages queued before the close are still delivered: late completions and runs that were
  // started from other threads (they end at once with CANO_E_SHUTDOWN).
  drain_mailbox();
  while (!timers_.empty()) timers_.pop();
  uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&uv_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&prepare_), nullptr);
}

bool cano_engine::call_on_loop(void (*fn)(void*), void* arg) {
  if (on_loop_thread()) {
    fn(arg);
    return true;
  }
  struct Call {
    void (*fn)(void*);
    void* arg;
    std::mutex mutex;
    std::condition_variable done_cv;
    bool done = false;
  } call{fn, arg, {}, {}, false};
  auto trampoline = [](void* p) {
    auto* c = static_cast<Call*>(p);
    c->fn(c->arg);
    std::lock_guard<std::mutex> lock(c->mutex);
    c->done = true;
    c->done_cv.notify_one();
  };
  if (!post(trampoline, &call)) return false;
  std::unique_lock<std::mutex> lock(call.mutex);
  call.done_cv.wait(lock, [&call] { return call.done; });
  return true;
}

void cano_engine::on_wake(uv_async_t* handle) {
  auto* engine = static_cast<cano_engine*>(handle->data);
  engine->drain_mailbox();
  engine->maybe_finish_shutdown();
}

void cano_engine::drain_mailbox() {
  // Handlers may post again (a zero-delay retry of an async task): loop until the queue is dry.
  for (;;) {
    mailbox_.drain(drained_);
    if (drained_.empty()) return;
    if (spin_us_ > 0) last_message_ = std::chrono::steady_clock::now();
    std::vector<cano::detail::Message> batch;
    batch.swap(drained_);
    for (const auto& message : batch) message.fn(message.arg);
    batch.clear();
    if (drained_.capacity() < batch.capacity()) drained_.swap(batch);
  }
}

uint64_t cano_engine::now() const { return manual_clock_ ? manual_now_ : uv_now(&loop_); }

void cano_engine::arm(cano::detail::Timer& timer, uint64_t delay_ms) {
  uint64_t current = now();
  uint64_t deadline = delay_ms > UINT64_MAX - current ? UINT64_MAX : current + delay_ms;
  timers_.arm(timer, deadline);
}

bool cano_engine::next_deadline(uint64_t* out) const {
  if (timers_.empty()) return false;
  *out = timers_.top().deadline;
  return true;
}

void cano_engine::fire_due_timers(uint64_t current) {
  for (int fired = 0; fired < kTimerBatch && !timers_.empty(); ++fired) {
    if (timers_.top().deadline > current) return;
    cano::detail::Timer& timer = timers_.pop();
    timer.fn(timer.arg);
  }
}

void cano_engine::advance_clock(uint64_t ms) {
  uint64_t target = ms > UINT64_MAX - manual_now_ ? UINT64_MAX : manual_now_ + ms;
  // Walk from deadline to deadline so that timers armed by a firing timer (the next retry)
  // fire within this advance when they fall inside it.
  while (!timers_.empty() && timers_.top().deadline <= target) {
    manual_now_ = std::max(manual_now_, timers_.top().deadline);
    clock_reading_.store(manual_now_, std::memory_order_release);
    cano::detail::Timer& timer = timers_.pop();
    timer.fn(timer.arg);
  }
  manual_now_ = target;
  clock_reading_.store(manual_now_, std::memory_order_release);
}

void cano_engine::on_timer(uv_timer_t* handle) {
  auto* engine = static_cast<cano_engine*>(handle->data);
  engine->armed_deadline_ = UINT64_MAX;
  uv_update_time(&engine->loop_);
  engine->fire_due_timers(engine->now());
}

void cano_engine::on_prepare(uv_prepare_t* handle) {
  auto* engine = static_cast<cano_engine*>(handle->data);
  // Spin phase: while worker bodies are in flight, and for a moment after the last message,
  // poll the mailbox instead of sleeping in the kernel: a wake-up through the event fd costs
  // tens of microseconds in a VM, more than a short task or the next blocking run's request.
  if (engine->spin_us_ > 0 && !engine->handles_closed_) {
    using Clock = std::chrono::steady_clock;
    const auto window = std::chrono::microseconds(engine->spin_us_);
    auto until = engine->last_message_ + window;
    if (engine->outstanding_jobs_ > 0 || Clock::now() < until) {
      engine->mailbox_.set_loop_spinning(true);
      if (engine->outstanding_jobs_ > 0) until = Clock::now() + window;
      while (Clock::now() < until) {
        if (engine->mailbox_.has_messages()) {
          engine->drain_mailbox();
          until = Clock::now() + window;
        } else {
          // On a loaded machine the worker that will answer may need this core: without the
          // yield a spinning loop kept it off the CPU until the spin ran out
          // (bench/transition_bench).
          std::this_thread::yield();
        }
      }
      if (engine->mailbox_.set_loop_spinning(false)) engine->drain_mailbox();
      uv_update_time(&engine->loop_);
    }
  }
  if (!engine->handles_closed_) engine->fire_due_timers(engine->now());
  engine->maybe_finish_shutdown();
  engine->rearm_uv_timer();
}

void cano_engine::rearm_uv_timer() {
  if (manual_clock_ || handles_closed_) return;
  if (timers_.empty()) {
    if (armed_deadline_ != UINT64_MAX) {
      uv_timer_stop(&uv_timer_);
      armed_deadline_ = UINT64_MAX;
    }
    return;
  }
  uint64_t deadline = timers_.top().deadline;
  if (deadline == armed_deadline_) return;
  uint64_t current = now();
  uv_timer_start(&uv_timer_, &cano_engine::on_timer, deadline > current ? deadline - current : 0,
                 0);
  armed_deadline_ = deadline;
}

double cano_engine::random_unit() {
  // xorshift64*: plenty for retry jitter, and reproducible under a fixed seed.
  rng_state_ ^= rng_state_ >> 12;
  rng_state_ ^= rng_state_ << 25;
  rng_state_ ^= rng_state_ >> 27;
  uint64_t bits = rng_state_ * 0x2545F4914F6CDD1DULL;
  double unit = static_cast<double>(bits >> 11) * (1.0 / 9007199254740992.0);
  return unit * 2.0 - 1.0;
}

void cano_engine::submit(void (*fn)(void*), void* arg) {
  ++outstanding_jobs_;
  pool_.submit({fn, arg});
}

void cano_engine::add_run(cano::detail::Run* run) { runs_.emplace(run->id(), run); }
void cano_engine::remove_run(cano::detail::Run* run) { runs_.erase(run->id()); }

cano::detail::Run* cano_engine::find_run(uint64_t id) const {
  auto it = runs_.find(id);
  return it == runs_.end() ? nullptr : it->second;
}

cano::detail::ResourceLifecycle& cano_engine::lifecycle_of(cano_resources* resources) {
  auto& slot = lifecycles_[resources];
  if (!slot) slot = std::make_unique<cano::detail::ResourceLifecycle>(this, resources);
  return *slot;
}

uint64_t cano_engine::register_token(cano_task_ctx* ctx) {
  cano::detail::retain_ctx(ctx);
  std::lock_guard<std::mutex> lock(token_mutex_);
  uint64_t token = next_token_++;
  tokens_.emplace(token, ctx);
  return token;
}

cano_task_ctx* cano_engine::claim_token(uint64_t token) {
  std::lock_guard<std::mutex> lock(token_mutex_);
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return nullptr;
  cano_task_ctx* ctx = it->second;
  tokens_.erase(it);
  return ctx;
}

bool cano_engine::tokens_closed() {
  std::lock_guard<std::mutex> lock(token_mutex_);
  return tokens_closed_ || mailbox_.closed();
}

namespace cano::detail {

void retain_ctx(cano_task_ctx* ctx) { ctx->refs.fetch_add(1, std::memory_order_relaxed); }

void release_ctx(cano_task_ctx* ctx) {
  if (!ctx->heap_allocated) return;
  if (ctx->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    release(ctx->workflow);
    delete ctx;
  }
}

}  // namespace cano::detail
