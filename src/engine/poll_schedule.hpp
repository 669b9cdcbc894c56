// How long to wait between status checks of a running batch: about a tenth
// of the batch's age, within [min, max]. A batch that ends after T is so
// noticed within ~10% of T (and never later than max), while a day-long
// batch costs ~1,500 status calls at a 60 s cap instead of 86,400.
#pragma once

namespace obatch {

class PollSchedule {
 public:
  PollSchedule(long min_ms, long max_ms);
  // The wait before the next check, `age_ms` after the batch was created.
  long next_delay_ms(long age_ms) const;

 private:
  long min_ms_, max_ms_;
};

}  // namespace obatch
