#include "cli/interrupt.hpp"

#include <signal.h>

#include <atomic>

namespace obatch::cli {

namespace {

std::atomic<int> g_interrupts{0};
std::atomic<bool> g_terminated{false};
struct sigaction g_old_int, g_old_term;

void on_signal(int sig) {
  if (sig == SIGTERM)
    g_terminated = true;
  else
    g_interrupts++;
}

}  // namespace

InterruptWatch::InterruptWatch() {
  g_interrupts = 0;
  g_terminated = false;
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

InterruptWatch::~InterruptWatch() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

int InterruptWatch::interrupts() const { return g_interrupts; }
bool InterruptWatch::terminated() const { return g_terminated; }

}  // namespace obatch::cli
