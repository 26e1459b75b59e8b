// split_poll.cpp - a router, a poll task and a split state with the C++ wrapper.
//
// Route picks the path; Wait polls a "job" until it is finished (re-polled on an engine timer,
// no thread held meanwhile); Fan asks three mirrors at once and goes on when two answered
// (a quorum), and Join reads every mirror's answer or error from the split result. The program
// checks the outcome and exits non-zero on any mismatch.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

#include "cano/cano.hpp"

enum class Step { Route, Wait, Fan, Join, Done };

int main() {
  using namespace std::chrono_literals;
  try {
    std::atomic<int> polls{0};
    std::atomic<int> answers{0};
    std::string summary;

    cano::workflow<Step> workflow{{Step::Route, "Route"}, {Step::Wait, "Wait"},
                                  {Step::Fan, "Fan"},     {Step::Join, "Join"},
                                  {Step::Done, "Done"}};
    workflow
        // A router only picks the next state.
        .register_router(Step::Route, [] { return Step::Wait; })
        // "Wait until the job is finished": ready on the third poll, 5 ms apart.
        .register_poll(Step::Wait,
                       [&polls]() -> cano::poll_result<Step> {
                         if (++polls < 3) return cano::pending(5ms);
                         return cano::ready(Step::Fan);
                       })
        // Three mirrors at once; two answers are enough. Each branch has its own config:
        // the default retries, or here a single attempt for the mirror known to be flaky.
        .register_split(Step::Fan,
                        {[] { return std::string("mirror-a: 42"); },
                         cano::branch(
                             []() -> std::string { throw std::runtime_error("mirror-b is down"); },
                             cano::task_config::minimal()),
                         [] { return std::string("mirror-c: 42"); }},
                        cano::join::quorum(2).with_timeout(5s), Step::Join)
        .register_task(Step::Join,
                       [&](cano::task_context& ctx) {
                         std::optional<cano::split_result> split = ctx.split_result();
                         for (std::size_t i = 0; split && i < split->size(); ++i) {
                           if (auto value = split->value(i)) {
                             ++answers;
                             summary += std::string(*value) + "\n";
                           } else if (auto error = split->error(i)) {
                             summary += std::string("failed: ") + error->message() + "\n";
                           }
                         }
                         return Step::Done;
                       })
        .add_exit_state(Step::Done);

    cano::engine engine;
    Step final_state = workflow.orchestrate(engine, Step::Route);
    std::printf("polls: %d\n%s", polls.load(), summary.c_str());
    if (final_state != Step::Done || polls.load() != 3 || answers.load() != 2) {
      std::fprintf(stderr, "split_poll: expected Done, 3 polls and 2 answers\n");
      return 1;
    }
  } catch (const cano::error& e) {
    std::fprintf(stderr, "split_poll: %s (category %s)\n", e.what(), e.category());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "split_poll: %s\n", e.what());
    return 1;
  }
  std::printf("split_poll: ok\n");
  return 0;
}
