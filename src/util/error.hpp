// The one exception type of the core: an obatch_code plus a message for the
// user. src/capi turns it into a return code and the handle's last error.
#pragma once

#include <stdexcept>
#include <string>

namespace obatch {

class Error : public std::runtime_error {
 public:
  // `transient`: the same call may well succeed later (a network failure,
  // 429, 5xx), as opposed to an answer that will not change (400, 404).
  Error(int code, std::string message, bool transient = false)
      : std::runtime_error(std::move(message)), code_(code), transient_(transient) {}
  int code() const noexcept { return code_; }
  bool transient() const noexcept { return transient_; }

 private:
  int code_;
  bool transient_;
};

}  // namespace obatch
