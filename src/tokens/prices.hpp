// Prices per model (USD per 1M tokens, standard and batch), from the dated
// table embedded from data/prices/openai.tsv or a file of the same format
// (--prices). An unknown model has no price: a cost is never guessed.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace obatch {

struct Price {
  double input = 0, output = 0, batch_input = 0, batch_output = 0;
  std::optional<double> cached_input;
  bool has_output = true;  // embeddings models have none
};

class PriceTable {
 public:
  // The built-in table.
  static PriceTable builtin();
  // A table in the TSV format of data/prices/openai.tsv; throws
  // Error(EIO) naming the file and line.
  static PriceTable from_file(const std::string &path);
  static PriceTable parse(const std::string &text, const std::string &name);

  // The model's price: exact name, else the name without a date suffix
  // ("gpt-4o-mini-2024-07-18" -> "gpt-4o-mini"). nullopt when unknown.
  std::optional<Price> find(const std::string &model) const;

  const std::string &date() const { return date_; }      // "# date:" of the file
  const std::string &origin() const { return origin_; }  // "built in" or the path

 private:
  std::map<std::string, Price> prices_;
  std::string date_, origin_;
};

}  // namespace obatch
