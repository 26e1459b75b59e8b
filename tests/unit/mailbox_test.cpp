// The mailbox delivers every message posted from many threads, in order per producer, and
// refuses posts once closed.
#include "src/mailbox.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

using cano::detail::Mailbox;
using cano::detail::Message;

TEST(Mailbox, DeliversEveryMessageInOrderPerProducer) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  uv_async_t wake;
  uv_async_init(&loop, &wake, [](uv_async_t*) {});
  Mailbox mailbox;
  mailbox.bind(&wake);
  constexpr int kProducers = 4, kEach = 5000;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&mailbox, p] {
      for (int i = 0; i < kEach; ++i) {
        auto tag = reinterpret_cast<void*>(static_cast<intptr_t>(p * 100000 + i + 1));
        ASSERT_TRUE(mailbox.post({nullptr, tag}));
      }
    });
  }
  std::vector<int> last(kProducers, -1);
  int received = 0;
  std::vector<Message> batch;
  while (received < kProducers * kEach) {
    mailbox.drain(batch);
    for (const auto& message : batch) {
      auto value = static_cast<int>(reinterpret_cast<intptr_t>(message.arg)) - 1;
      int producer = value / 100000, index = value % 100000;
      EXPECT_GT(index, last[producer]);
      last[producer] = index;
      ++received;
    }
    batch.clear();
  }
  for (auto& t : producers) t.join();
  EXPECT_FALSE(mailbox.has_messages());
  mailbox.close();
  EXPECT_FALSE(mailbox.post({nullptr, nullptr}));
  uv_close(reinterpret_cast<uv_handle_t*>(&wake), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}
