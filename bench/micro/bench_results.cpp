// Reading results already on disk (public C API):
//   BM_OpenFetch  obatch_open(input, output) + obatch_fetch of every result
//   BM_Fetch      obatch_rewind + obatch_fetch of every result (open once)
// over a prepared, shuffled OpenAI-shaped output file; bytes/s = output file
// bytes per pass.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <vector>

#include "micro_common.h"

namespace {

struct Files {
  std::string dir, input, output;
  size_t n = 0, output_bytes = 0;
};

std::string output_line(size_t i, size_t content_size) {
  std::string content = "Answer " + std::to_string(i) + ": ";
  while (content.size() < content_size) content += "lorem ipsum dolor sit amet ";
  content.resize(content_size);
  char head[512];
  std::snprintf(head, sizeof head,
                "{\"id\":\"batch_req_%016zx\",\"custom_id\":\"request-%zu\",\"response\":"
                "{\"status_code\":200,\"request_id\":\"req_%032zx\",\"body\":{\"id\":"
                "\"chatcmpl-%zu\",\"object\":\"chat.completion\",\"created\":1711652795,"
                "\"model\":\"gpt-4o-mini-2024-07-18\",\"choices\":[{\"index\":0,\"message\":"
                "{\"role\":\"assistant\",\"content\":\"",
                i * 2654435761u, i + 1, i * 0x9E3779B97F4A7C15u, i);
  char tail[512];
  std::snprintf(tail, sizeof tail,
                "\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                "\"usage\":{\"prompt_tokens\":22,\"completion_tokens\":%zu,\"total_tokens\":%zu},"
                "\"system_fingerprint\":\"fp_0ba0d124f1\"}},\"error\":null}\n",
                content_size / 4, 22 + content_size / 4);
  return head + content + tail;
}

const Files &files() {
  static Files f = [] {
    Files f;
    f.dir = bench::scratch_dir("obatch-bench-results");
    f.input = f.dir + "/input.jsonl";
    f.output = f.dir + "/output.jsonl";
    f.n = 20000;
    FILE *in = std::fopen(f.input.c_str(), "wb");
    for (size_t i = 0; i < f.n; i++)
      std::fprintf(in,
                   "{\"custom_id\":\"request-%zu\",\"method\":\"POST\",\"url\":"
                   "\"/v1/chat/completions\",\"body\":%s}\n",
                   i + 1, bench::chat_body(i).c_str());
    std::fclose(in);
    std::vector<size_t> order(f.n);
    for (size_t i = 0; i < f.n; i++) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937_64(42));
    FILE *out = std::fopen(f.output.c_str(), "wb");
    for (size_t i : order) {
      std::string l = output_line(i, 400);
      f.output_bytes += l.size();
      std::fwrite(l.data(), 1, l.size(), out);
    }
    std::fclose(out);
    return f;
  }();
  // Registered after f is constructed, so it runs before f is destroyed.
  static const bool cleanup = (std::atexit([] { bench::remove_dir(files().dir); }), true);
  (void)cleanup;
  return f;
}

size_t fetch_all(benchmark::State &state, obatch_t *b) {
  obatch_result_t r = OBATCH_RESULT_INIT;
  size_t n = 0;
  int rc;
  while ((rc = obatch_fetch(b, &r)) == OBATCH_OK) {
    benchmark::DoNotOptimize(r.body_len);
    n++;
  }
  if (rc != OBATCH_END) state.SkipWithError(obatch_last_error(b));
  return n;
}

void BM_OpenFetch(benchmark::State &state) {
  const Files &f = files();
  for (auto _ : state) {
    obatch_t *b;
    if (obatch_open(&b, nullptr, f.input.c_str(), f.output.c_str(), nullptr) != OBATCH_OK) {
      state.SkipWithError(obatch_last_error(nullptr));
      break;
    }
    if (fetch_all(state, b) != f.n) state.SkipWithError("wrong result count");
    obatch_destroy(b);
  }
  state.SetItemsProcessed(int64_t(state.iterations() * f.n));
  state.SetBytesProcessed(int64_t(state.iterations() * f.output_bytes));
}
BENCHMARK(BM_OpenFetch)->Unit(benchmark::kMillisecond);

void BM_Fetch(benchmark::State &state) {
  const Files &f = files();
  obatch_t *b;
  if (obatch_open(&b, nullptr, f.input.c_str(), f.output.c_str(), nullptr) != OBATCH_OK) {
    state.SkipWithError(obatch_last_error(nullptr));
    return;
  }
  for (auto _ : state) {
    obatch_rewind(b);
    if (fetch_all(state, b) != f.n) state.SkipWithError("wrong result count");
  }
  obatch_destroy(b);
  state.SetItemsProcessed(int64_t(state.iterations() * f.n));
  state.SetBytesProcessed(int64_t(state.iterations() * f.output_bytes));
}
BENCHMARK(BM_Fetch)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
