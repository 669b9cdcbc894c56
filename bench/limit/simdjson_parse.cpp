// simdjson_parse FILE...
//
// The limit the issue 19 figures are measured against: simdjson alone
// parsing the same JSONL files, every document fully (DOM: validated, and
// each line's "custom_id" read so nothing is skipped), on one core. Two
// ways, each over the file already in memory (reading it is not timed):
//   - many:     parser.parse_many over the whole buffer (document stream)
//   - per_line: parser.parse of each line, as a line-at-a-time reader would
// Prints one JSON line per file:
// {"file", "bytes", "docs", "many_s", "per_line_s", "many_mb_per_s", "per_line_mb_per_s"}.
//
// Built with SIMDJSON_THREADS_ENABLED undefined (bench/CMakeLists.txt): with
// it, parse_many runs stage 1 on a second thread, and the figure is one core.
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Counts documents and the bytes of their custom_ids (a document without
// one is counted too).
struct Tally {
  size_t docs = 0, id_bytes = 0;
  void take(simdjson::dom::element doc) {
    docs++;
    std::string_view id;
    if (!doc["custom_id"].get(id)) id_bytes += id.size();
  }
};

int run(const char *path) {
  simdjson::padded_string text;
  if (auto err = simdjson::padded_string::load(path).get(text)) {
    std::fprintf(stderr, "%s: %s\n", path, simdjson::error_message(err));
    return 1;
  }
  simdjson::dom::parser parser;

  Tally many;
  double t0 = now();
  simdjson::dom::document_stream stream;
  // A window of 4 MB: every line fits in one, and stage 1 runs on big blocks.
  if (auto err = parser.parse_many(text, 4 << 20).get(stream)) {
    std::fprintf(stderr, "%s: %s\n", path, simdjson::error_message(err));
    return 1;
  }
  for (auto doc : stream) {
    simdjson::dom::element e;
    if (auto err = doc.get(e)) {
      std::fprintf(stderr, "%s: %s\n", path, simdjson::error_message(err));
      return 1;
    }
    many.take(e);
  }
  double t1 = now();

  Tally lines;
  const char *p = text.data(), *end = p + text.size();
  while (p < end) {
    const char *nl = static_cast<const char *>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    size_t len = static_cast<size_t>((nl ? nl : end) - p);
    if (len) {
      simdjson::dom::element e;
      // In place: the padded buffer leaves SIMDJSON_PADDING bytes after every line.
      if (auto err = parser.parse(p, len, false).get(e)) {
        std::fprintf(stderr, "%s: %s\n", path, simdjson::error_message(err));
        return 1;
      }
      lines.take(e);
    }
    p += len + 1;
  }
  double t2 = now();
  if (many.docs != lines.docs || many.id_bytes != lines.id_bytes) {
    std::fprintf(stderr, "%s: parse_many saw %zu documents, the line parse %zu\n", path,
                 many.docs, lines.docs);
    return 1;
  }
  std::printf(
      "{\"file\":\"%s\",\"bytes\":%zu,\"docs\":%zu,\"many_s\":%.6f,\"per_line_s\":%.6f,"
      "\"many_mb_per_s\":%.1f,\"per_line_mb_per_s\":%.1f}\n",
      path, text.size(), many.docs, t1 - t0, t2 - t1, text.size() / (t1 - t0) / 1e6,
      text.size() / (t2 - t1) / 1e6);
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++)
    if (run(argv[i]) != 0) return 1;
  return 0;
}
