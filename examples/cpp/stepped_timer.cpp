// stepped_timer.cpp - a stepped task and a timer task with the C++ wrapper.
//
// Import copies ten records in pages of four, one step per page: each step gets the offset the
// previous one left (an int cursor, through cano::cursor_codec<int>) and answers cano::more()
// with the next offset, or cano::done() when nothing is left. A page fails once, and only that
// step is retried, from the same offset. Cooldown then waits 20 ms on an engine timer (no thread
// is held) before its body checks the import. The program exits non-zero on any mismatch.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

#include "cano/cano.hpp"

enum class Step { Import, Cooldown, Done, Failed };

int main() {
  using namespace std::chrono_literals;
  try {
    const std::vector<int> source{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    std::mutex mutex;
    std::vector<int> copied;
    std::atomic<int> steps{0};
    std::atomic<bool> failed_once{false};

    cano::workflow<Step> workflow{{Step::Import, "Import"},
                                  {Step::Cooldown, "Cooldown"},
                                  {Step::Done, "Done"},
                                  {Step::Failed, "Failed"}};
    workflow
        .register_stepped<int>(
            Step::Import,
            [&](cano::task_context& ctx, std::optional<int> cursor) -> cano::step_result<Step> {
              ++steps;
              int offset = cursor.value_or(0);
              // The page at offset 4 fails on its first attempt; its retry starts from 4 again.
              if (offset == 4 && !failed_once.exchange(true)) {
                throw std::runtime_error("page 4 timed out");
              }
              std::lock_guard<std::mutex> lock(mutex);
              for (int i = offset; i < offset + 4 && i < static_cast<int>(source.size()); ++i) {
                copied.push_back(source[i]);
              }
              std::printf("step at offset %d, attempt %u\n", offset, ctx.attempt());
              if (offset + 4 < static_cast<int>(source.size())) return cano::more(offset + 4);
              return cano::done(Step::Cooldown);
            },
            cano::task_config().with_fixed_retry(2, 5ms))
        .register_timer(
            Step::Cooldown,
            [&] {
              std::lock_guard<std::mutex> lock(mutex);
              return copied == source ? Step::Done : Step::Failed;
            },
            cano::timer::after(20ms))
        .add_exit_states({Step::Done, Step::Failed});

    cano::engine engine;
    auto started = std::chrono::steady_clock::now();
    Step final_state = workflow.orchestrate(engine, Step::Import);
    auto elapsed = std::chrono::steady_clock::now() - started;
    std::printf("steps: %d, records: %zu\n", steps.load(), copied.size());
    if (final_state != Step::Done || steps.load() != 4 || elapsed < 20ms) {
      std::fprintf(stderr, "stepped_timer: expected Done after 4 step calls and a 20 ms wait\n");
      return 1;
    }
  } catch (const cano::error& e) {
    std::fprintf(stderr, "stepped_timer: %s (category %s)\n", e.what(), e.category());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stepped_timer: %s\n", e.what());
    return 1;
  }
  std::printf("stepped_timer: ok\n");
  return 0;
}
