// quickstart.cpp - cano's Quick Start in C++, line for line with the Rust original.
//
// Fetch reads a typed FetchConfig resource and stores the numbers 1..batch_size in the shared
// MemoryStore; Process sums them. The program checks that the run ends in Done with sum 6,
// prints the state trail and the result, and exits non-zero on any mismatch.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <numeric>
#include <string>
#include <vector>

#include "cano/cano.hpp"

enum class Step { Fetch, Process, Done };

// A typed configuration struct shared with tasks via resources.
struct FetchConfig {
  std::size_t batch_size;
};

// Each task also appends its state to "trail" so that main can show the path the run took.
struct FetchTask {
  Step operator()(cano::resources& res) const {
    const auto& config = res.get<FetchConfig>("config");
    auto store = res.get<cano::memory_store>("store");
    store.append<std::string>("trail", "Fetch");
    // Produce `batch_size` items and store them for the next task.
    std::vector<std::uint32_t> data(config.batch_size);
    std::iota(data.begin(), data.end(), 1u);
    store.put("data", data);
    return Step::Process;
  }
};

struct ProcessTask {
  Step operator()(cano::resources& res) const {
    auto store = res.get<cano::memory_store>("store");
    store.append<std::string>("trail", "Process");
    auto data = store.get<std::vector<std::uint32_t>>("data");
    store.put("sum", std::accumulate(data.begin(), data.end(), std::uint32_t{0}));
    return Step::Done;
  }
};

int main() {
  try {
    cano::memory_store store;
    cano::resources resources;
    resources.insert("config", FetchConfig{3}).insert("store", store);

    cano::workflow<Step> workflow{
        resources, {{Step::Fetch, "Fetch"}, {Step::Process, "Process"}, {Step::Done, "Done"}}};
    workflow.register_task(Step::Fetch, FetchTask{})
        .register_task(Step::Process, ProcessTask{})
        .add_exit_state(Step::Done);

    cano::engine engine;
    Step final_state = workflow.orchestrate(engine, Step::Fetch);

    std::string trail;
    for (const auto& state : store.get<std::vector<std::string>>("trail")) trail += state + " -> ";
    std::printf("trail: %s%s\n", trail.c_str(), workflow.name_of(final_state).c_str());

    // The sum of 1..=3 is 6.
    auto sum = store.get<std::uint32_t>("sum");
    std::printf("sum: %u\n", static_cast<unsigned>(sum));
    if (final_state != Step::Done || sum != 6) {
      std::fprintf(stderr, "quickstart: expected Done and sum 6\n");
      return 1;
    }
  } catch (const cano::error& e) {
    std::fprintf(stderr, "quickstart: %s (category %s)\n", e.what(), e.category());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quickstart: %s\n", e.what());
    return 1;
  }
  std::printf("quickstart: ok\n");
  return 0;
}
