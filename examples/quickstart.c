/* Classify three sentences with one batch, at half the price.
 *
 *   cc quickstart.c $(pkg-config --cflags --libs obatch) -o quickstart
 *   OPENAI_API_KEY=sk-... ./quickstart
 */
#include <obatch/obatch.h>
#include <stdio.h>

int main(void) {
  static const char *const texts[] = {"I love it", "It broke after a day", "Okay, I guess"};
  obatch_config_t *conf;
  obatch_t *b;
  char err[256];

  obatch_config_new(&conf);
  if (obatch_config_set(conf, "metadata.project", "quickstart", err, sizeof err) != OBATCH_OK)
    fprintf(stderr, "%s\n", err);
  if (obatch_create(&b, conf) != OBATCH_OK) return 1;
  obatch_config_destroy(conf); /* the batch keeps its own copy */

  for (int i = 0; i < 3; i++) {
    char body[512];
    snprintf(body, sizeof body,
             "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
             "\"content\":\"Positive, negative or neutral? %s\"}]}",
             texts[i]);
    if (obatch_add(b, body, NULL, NULL) != OBATCH_OK) { /* ids: request-1, ... */
      fprintf(stderr, "obatch: %s\n", obatch_last_error(b));
      return 1;
    }
  }
  if (obatch_submit(b) != OBATCH_OK) {
    fprintf(stderr, "obatch: %s\n", obatch_last_error(b));
    return 1;
  }

  obatch_info_t info = OBATCH_INFO_INIT;
  int rc = obatch_wait(b, -1, &info); /* or obatch_poll(b, 1000, &info) in your own loop */
  if (rc != OBATCH_OK && rc != OBATCH_EEXPIRED && rc != OBATCH_ECANCELLED) {
    fprintf(stderr, "obatch: %s\n", obatch_last_error(b));
    return 1;
  }
  printf("batch %s %s; output in %s\n", info.batch_id, info.remote_status, info.output_path);

  obatch_result_t r = OBATCH_RESULT_INIT;
  while (obatch_fetch(b, &r) == OBATCH_OK) /* input order, failures and gaps included */
    printf("%s -> %d %.60s\n", r.custom_id, r.status_code,
           r.kind == OBATCH_RESULT_MISSING ? "(no result)" : r.body ? r.body : r.error_message);
  obatch_destroy(b);
  return 0;
}
