// bare.cpp - cano's resource-free workflow in C++ (Workflow::bare() and run_bare()).
//
// Compute sums 1..100 without any resource lookup and moves to Done. The program checks the
// final state and the sum (5050), and exits non-zero on any mismatch.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <exception>

#include "cano/cano.hpp"

enum class Step { Compute, Done };

int main() {
  try {
    // The task runs on a worker thread; main reads the result after orchestrate() returned.
    std::atomic<std::uint32_t> result{0};

    auto workflow = cano::workflow<Step>::bare({{Step::Compute, "Compute"}, {Step::Done, "Done"}});
    workflow
        .register_task(Step::Compute,
                       [&result] {
                         // Pure computation: no resource lookup needed.
                         std::uint32_t sum = 0;
                         for (std::uint32_t i = 1; i <= 100; ++i) sum += i;
                         if (sum != 5050) throw cano::task_execution_error("wrong sum");
                         result = sum;
                         return Step::Done;
                       })
        .add_exit_state(Step::Done);

    cano::engine engine;
    Step final_state = workflow.orchestrate(engine, Step::Compute);

    std::printf("trail: Compute -> %s\n", workflow.name_of(final_state).c_str());
    std::printf("sum: %u\n", static_cast<unsigned>(result.load()));
    if (final_state != Step::Done || result != 5050) {
      std::fprintf(stderr, "bare: expected Done and sum 5050\n");
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bare: %s\n", e.what());
    return 1;
  }
  std::printf("bare: ok\n");
  return 0;
}
