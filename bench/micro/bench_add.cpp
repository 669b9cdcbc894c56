// BM_Add: obatch_add of ~300-byte chat request bodies into one batch
// (auto custom_id, endpoint inferred), items/s and bytes/s of JSONL written.
#include <benchmark/benchmark.h>

#include <vector>

#include "micro_common.h"

static void BM_Add(benchmark::State &state) {
  bench::register_provider();
  const size_t body_size = static_cast<size_t>(state.range(0));
  std::vector<std::string> bodies;
  for (size_t i = 0; i < 1024; i++) bodies.push_back(bench::chat_body(i, body_size));
  std::string dir = bench::scratch_dir("obatch-bench-add");
  obatch_config_t *conf;
  obatch_config_new(&conf);
  obatch_config_set(conf, "provider", "bench", nullptr, 0);
  obatch_config_set(conf, "work_dir", dir.c_str(), nullptr, 0);
  obatch_t *b;
  if (obatch_create(&b, conf) != OBATCH_OK) {
    state.SkipWithError(obatch_last_error(nullptr));
    obatch_config_destroy(conf);
    return;
  }
  obatch_config_destroy(conf);
  size_t i = 0;
  for (auto _ : state) {
    int rc = obatch_add(b, bodies[i++ & 1023].c_str(), nullptr, nullptr);
    if (rc != OBATCH_OK) {
      state.SkipWithError(obatch_last_error(b));
      break;
    }
  }
  (void)obatch_input_path(b);  // flush
  obatch_info_t info = OBATCH_INFO_INIT;
  obatch_info(b, &info);
  state.SetItemsProcessed(static_cast<int64_t>(info.requests_added));
  state.SetBytesProcessed(static_cast<int64_t>(info.bytes_total));
  state.counters["line_bytes"] =
      info.requests_added ? double(info.bytes_total) / double(info.requests_added) : 0;
  obatch_destroy(b);
  bench::remove_dir(dir);
}
BENCHMARK(BM_Add)->Arg(300)->Arg(3000);

BENCHMARK_MAIN();
