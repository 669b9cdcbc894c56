// Counters of `obatch serve` for /metrics (Prometheus text format 0.0.4).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace obatch::serve {

struct Metrics {
  std::atomic<uint64_t> upstream_requests{0};  // sent upstream by the gateway's batches
  std::atomic<uint64_t> upstream_errors{0};    // answered with an error, or sent again

  void count_response(int status) {
    std::lock_guard<std::mutex> lock(mu);
    ++responses[status];
  }
  std::map<int, uint64_t> responses_by_status() {
    std::lock_guard<std::mutex> lock(mu);
    return responses;
  }

 private:
  std::mutex mu;
  std::map<int, uint64_t> responses;
};

// Appends one metric's HELP and TYPE lines.
inline void metric_head(std::string &out, const char *name, const char *type, const char *help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace obatch::serve
