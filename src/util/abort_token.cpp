#include "util/abort_token.hpp"

#include "obatch/obatch.h"

namespace obatch {

void AbortToken::trigger() {
  triggered_.store(true, std::memory_order_release);
  // Under the lock, so that no waker runs after its Watch is gone (release()
  // takes the lock). Wakers only set flags and notify: they never block.
  std::lock_guard<std::mutex> lock(mu_);
  for (auto &w : wakers_) w.second();
}

AbortToken::Watch::Watch(std::shared_ptr<AbortToken> token, std::function<void()> wake)
    : token_(std::move(token)) {
  if (!token_) return;
  {
    std::lock_guard<std::mutex> lock(token_->mu_);
    id_ = token_->next_id_++;
    token_->wakers_[id_] = wake;
  }
  if (token_->triggered()) wake();
}

AbortToken::Watch::~Watch() { release(); }

AbortToken::Watch::Watch(Watch &&other) noexcept : token_(std::move(other.token_)), id_(other.id_) {
  other.id_ = 0;
}

AbortToken::Watch &AbortToken::Watch::operator=(Watch &&other) noexcept {
  if (this != &other) {
    release();
    token_ = std::move(other.token_);
    id_ = other.id_;
    other.id_ = 0;
  }
  return *this;
}

void AbortToken::Watch::release() {
  if (!token_) return;
  std::lock_guard<std::mutex> lock(token_->mu_);
  token_->wakers_.erase(id_);
  token_.reset();
}

void throw_if_aborted(const std::shared_ptr<AbortToken> &token, const std::string &what) {
  if (token && token->triggered()) throw Error(OBATCH_EABORTED, what + ": aborted");
}

}  // namespace obatch
