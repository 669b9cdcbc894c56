// The one exception type of the core: an obatch_code plus a message for the
// user. src/capi turns it into a return code and the handle's last error.
#pragma once

#include <stdexcept>
#include <string>

namespace obatch {

class Error : public std::runtime_error {
 public:
  Error(int code, std::string message)
      : std::runtime_error(std::move(message)), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

}  // namespace obatch
