// obatch_check_*: every problem of an input file, nothing sent.
#include "capi/guard.hpp"
#include "capi/handles.hpp"
#include "capi/info.hpp"

using obatch::guarded;

extern "C" {

int obatch_check_file(obatch_check_t **out, const obatch_config_t *conf, const char *path,
                      unsigned max_problems, char *errstr, size_t errstr_size) {
  if (!out || !path) {
    obatch::copy_errstr(errstr, errstr_size, "obatch_check_file: NULL argument");
    if (out) *out = nullptr;
    return OBATCH_EINVAL;
  }
  *out = nullptr;
  std::string msg;
  int rc = guarded(&msg, [&] {
    auto h = std::make_unique<obatch_check>();
    h->check =
        std::make_unique<obatch::InputCheck>(conf ? conf->conf : obatch::Config(), max_problems);
    h->check->run(path);
    *out = h.release();
  });
  if (rc != OBATCH_OK) obatch::copy_errstr(errstr, errstr_size, msg);
  return rc;
}

uint64_t obatch_check_problems(const obatch_check_t *check) {
  return check ? check->check->problem_count() : 0;
}

int obatch_check_next(obatch_check_t *check, obatch_problem_t *problem) {
  if (!check || !problem || problem->version < 1) return OBATCH_EINVAL;
  const auto &kept = check->check->problems();
  if (check->next >= kept.size()) return OBATCH_END;
  const obatch::InputProblem &p = kept[check->next++];
  problem->line = p.line;
  problem->code = p.code;
  problem->message = p.message.c_str();
  return OBATCH_OK;
}

int obatch_check_info(const obatch_check_t *check, obatch_info_t *info) {
  if (!check || !info || info->version < 1) return OBATCH_EINVAL;
  obatch::fill_info(check->check->summary(), info);
  return OBATCH_OK;
}

int obatch_check_part(const obatch_check_t *check, uint64_t index, obatch_info_t *info) {
  if (!check || !info || info->version < 1) return OBATCH_EINVAL;
  const obatch::JobSnapshot &s = check->check->summary();
  if (index >= s.part_states.size()) return OBATCH_ENOTFOUND;
  obatch::fill_part_info(s, static_cast<size_t>(index), info);
  return OBATCH_OK;
}

void obatch_check_destroy(obatch_check_t *check) { delete check; }

}  // extern "C"
