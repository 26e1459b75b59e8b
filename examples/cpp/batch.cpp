// batch.cpp - a batch task with the C++ wrapper: load, process each item, finish.
//
// The Import state is a batch task named "import". `load` returns the order ids 1..8,
// `process_item` prices one order (id * 10; order 5 is out of stock and throws, is retried
// once and fails again), at most 3 orders at a time, and `finish` gets every outcome in input
// order as cano::batch_item<std::uint32_t>: it totals the priced orders and moves to Review when
// some failed, to Done otherwise. The program checks the total (10+20+30+40+60+70+80 = 310),
// the failure (item 4, "import[4]", after 2 attempts) and the final state, and exits non-zero
// on any mismatch.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "cano/cano.hpp"

enum class Step { Import, Review, Done };

int main() {
  using namespace std::chrono_literals;
  try {
    // What finish found (it runs once per attempt); main reads it after the run.
    std::uint32_t total = 0;
    std::vector<cano::error> failures;

    cano::workflow<Step> workflow{
        {Step::Import, "Import"}, {Step::Review, "Review"}, {Step::Done, "Done"}};
    workflow
        .register_batch(
            Step::Import,
            [] {
              std::vector<std::uint32_t> ids(8);
              std::iota(ids.begin(), ids.end(), 1u);
              return ids;
            },
            // Runs on a worker, at most three at a time.
            [](std::uint32_t id) -> std::uint32_t {
              if (id == 5) throw std::runtime_error("order 5 is out of stock");
              return id * 10;
            },
            [&](cano::batch_results<std::uint32_t> results) {
              total = 0;
              failures.clear();
              for (const auto& item : results) {
                if (item.ok()) {
                  total += item.value();
                } else {
                  failures.push_back(*item.error());
                }
              }
              return failures.empty() ? Step::Done : Step::Review;
            },
            cano::batch_config().with_concurrency(3).with_item_retry(
                cano::retry_mode::fixed(1, 0ms)),  // one retry, no delay
            cano::task_config().with_name("import"))
        .add_exit_states({Step::Review, Step::Done});

    cano::engine engine;
    Step final_state = workflow.orchestrate(engine, Step::Import);

    std::printf("priced total: %u, failed orders: %zu\n", static_cast<unsigned>(total),
                failures.size());
    if (!failures.empty()) std::printf("first failure: %s\n", failures.front().what());
    std::printf("final state: %s\n", workflow.name_of(final_state).c_str());
    if (total != 310 || failures.size() != 1 || final_state != Step::Review ||
        failures.front().task_name() != "import[4]" || failures.front().attempt() != 2 ||
        std::string(failures.front().message()).find("order 5 is out of stock") ==
            std::string::npos) {
      std::fprintf(stderr, "batch: unexpected outcome\n");
      return 1;
    }
  } catch (const cano::error& e) {
    std::fprintf(stderr, "batch: %s (category %s)\n", e.what(), e.category());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "batch: %s\n", e.what());
    return 1;
  }
  std::printf("batch: ok\n");
  return 0;
}
