#include "queue/sql_db.hpp"

#include <cstdlib>

#include "obatch/obatch.h"
#include "util/error.hpp"

namespace obatch {

int64_t SqlResult::number(size_t r, size_t c) const {
  const SqlValue &v = rows.at(r).at(c);
  return v ? std::strtoll(v->c_str(), nullptr, 10) : 0;
}

bool is_postgres_uri(const std::string &store) {
  return store.rfind("postgresql://", 0) == 0 || store.rfind("postgres://", 0) == 0;
}

std::unique_ptr<SqlDb> open_store(const std::string &store) {
  if (store.empty()) throw Error(OBATCH_EINVAL, "the queue store is empty");
  return is_postgres_uri(store) ? open_postgres(store) : open_sqlite(store);
}

}  // namespace obatch
