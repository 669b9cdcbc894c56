/* The "bench" provider, shared by the C drivers and the C++ micro
 * benchmarks: OpenAI-compatible, but with no request or byte limit, so one
 * batch can hold 1,000,000 requests (OpenAI caps a batch at 50,000 requests
 * / 200 MB). It is never contacted: the benchmarks never submit. */
#ifndef OBATCH_BENCH_PROVIDER_H
#define OBATCH_BENCH_PROVIDER_H

#include <obatch/sys/provider.h>

/* Registers it; the obatch_provider_register code. */
static inline int bench_provider_register(void) {
  obatch_provider_t p;
  obatch_provider_init(&p, OBATCH_PROVIDER_VERSION);
  p.name = "bench";
  p.default_base_url = "http://127.0.0.1:9/v1";
  p.api_key_env = "OBATCH_BENCH_API_KEY";
  p.max_requests = 0;
  p.max_bytes = 0;
  p.one_model_per_batch = 1;
  return obatch_provider_register(&p);
}

#endif
