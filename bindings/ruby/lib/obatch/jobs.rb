# frozen_string_literal: true

module Obatch
  # The job journal: every submit is journaled (SQLite), so the same input
  # submitted again takes its job up instead of paying for a second batch.
  # state: names the journal; default $OBATCH_STATE, else
  # $XDG_STATE_HOME/obatch/jobs.db, else ~/.local/state/obatch/jobs.db.
  class << self
    # The journal's jobs, newest first (a JobList of Job). Raises StateError
    # when the journal is off.
    def jobs(**options)
      Config.with(options) do |conf|
        rc, list, err = Raw.obatch_jobs_open(conf)
        raise Error.for(rc, err) unless rc == Raw::OBATCH_OK

        begin
          jobs = []
          loop do
            rc, job = Raw.obatch_jobs_next(list)
            break if rc == Raw::OBATCH_END
            raise Error.for(rc) if rc.negative?

            jobs << Job.from_raw(job)
          end
          JobList.new(jobs: jobs.freeze, path: Raw.obatch_jobs_path(list)).freeze
        ensure
          Raw.obatch_jobs_destroy(list)
        end
      end
    end

    # Forgets the ended jobs (done, failed, abandoned) that no live process
    # holds; their result files stay. Returns how many.
    def prune_jobs(**options)
      Config.with(options) do |conf|
        rc, pruned, err = Raw.obatch_jobs_prune(conf)
        raise Error.for(rc, err) unless rc == Raw::OBATCH_OK

        pruned
      end
    end
  end
end
