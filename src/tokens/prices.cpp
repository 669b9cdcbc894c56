#include "tokens/prices.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "obatch/obatch.h"
#include "util/error.hpp"
#include "util/files.hpp"

// data/prices/openai.tsv, placed in .rodata by the assembler (as the BPE
// ranks are; OBATCH_PRICES_FILE is set by CMake).
__asm__(
    ".section .rodata\n.hidden obatch_prices_tsv\n.global obatch_prices_tsv\n"
    "obatch_prices_tsv:\n.incbin \"" OBATCH_PRICES_FILE
    "\"\n.hidden obatch_prices_tsv_end\n.global obatch_prices_tsv_end\n"
    "obatch_prices_tsv_end:\n.byte 0\n.previous\n");
extern "C" const char obatch_prices_tsv[], obatch_prices_tsv_end[];

namespace obatch {

namespace {

bool number(const std::string &s, double *out) {
  if (s.empty()) return false;
  char *end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (*end != '\0' || errno != 0 || v < 0) return false;
  *out = v;
  return true;
}

}  // namespace

PriceTable PriceTable::builtin() {
  static const PriceTable table =
      parse(std::string(obatch_prices_tsv, obatch_prices_tsv_end), "built in");
  return table;
}

PriceTable PriceTable::from_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(OBATCH_EIO, "cannot open the prices file " + path + ": " + errno_text(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

PriceTable PriceTable::parse(const std::string &text, const std::string &name) {
  PriceTable t;
  t.origin_ = name;
  std::istringstream in(text);
  std::string line;
  for (uint64_t lineno = 1; std::getline(in, line); lineno++) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("# date:", 0) == 0) {
      t.date_ = line.substr(7);
      t.date_.erase(0, t.date_.find_first_not_of(" \t"));
    }
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    std::istringstream cols(line);
    for (std::string c; std::getline(cols, c, '\t');) f.push_back(c);
    auto bad = [&](const std::string &why) {
      return Error(OBATCH_EIO, name + " line " + std::to_string(lineno) + ": " + why +
                                   " (columns: model, input, cached_input, output, batch_input, "
                                   "batch_output, tab-separated, USD per 1M tokens, - for none)");
    };
    if (f.size() != 6) throw bad(std::to_string(f.size()) + " columns, not 6");
    Price p;
    double v = 0;
    if (!number(f[1], &p.input)) throw bad("input price '" + f[1] + "' is not a number >= 0");
    if (f[2] != "-") {
      if (!number(f[2], &v)) throw bad("cached_input price '" + f[2] + "' is not a number >= 0");
      p.cached_input = v;
    }
    if (f[3] == "-") {
      p.has_output = false;
    } else if (!number(f[3], &p.output)) {
      throw bad("output price '" + f[3] + "' is not a number >= 0");
    }
    if (!number(f[4], &p.batch_input))
      throw bad("batch_input price '" + f[4] + "' is not a number >= 0");
    if (f[5] != "-" && !number(f[5], &p.batch_output))
      throw bad("batch_output price '" + f[5] + "' is not a number >= 0");
    t.prices_[f[0]] = p;
  }
  return t;
}

std::optional<Price> PriceTable::find(const std::string &model) const {
  auto it = prices_.find(model);
  if (it != prices_.end()) return it->second;
  // A dated snapshot: "-YYYY-MM-DD" at the end.
  if (model.size() > 11) {
    const std::string tail = model.substr(model.size() - 11);
    bool dated = tail[0] == '-' && tail[5] == '-' && tail[8] == '-';
    for (size_t i : {1, 2, 3, 4, 6, 7, 9, 10}) dated = dated && tail[i] >= '0' && tail[i] <= '9';
    if (dated) {
      it = prices_.find(model.substr(0, model.size() - 11));
      if (it != prices_.end()) return it->second;
    }
  }
  return std::nullopt;
}

}  // namespace obatch
