#include "util/duration.hpp"

#include <cstdlib>
#include <string>

namespace obatch {

bool parse_duration_ms(std::string_view text, double *ms) {
  if (text == "0") {
    *ms = 0;
    return true;
  }
  if (text.empty()) return false;
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    bool digits = false;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) {
      digits |= text[i] != '.';
      i++;
    }
    if (!digits) return false;
    const std::string number(text.substr(start, i - start));
    if (number.find('.') != number.rfind('.')) return false;  // "1.2.3"
    const double value = std::strtod(number.c_str(), nullptr);
    const size_t unit_start = i;
    while (i < text.size() && !(text[i] >= '0' && text[i] <= '9') && text[i] != '.') i++;
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale;
    if (unit == "h")
      scale = 3600e3;
    else if (unit == "m")
      scale = 60e3;
    else if (unit == "s")
      scale = 1e3;
    else if (unit == "ms")
      scale = 1;
    else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs")  // µs, μs
      scale = 1e-3;
    else if (unit == "ns")
      scale = 1e-6;
    else
      return false;
    total += value * scale;
  }
  *ms = total;
  return true;
}

}  // namespace obatch
