# frozen_string_literal: true

# Figure 6 of issue 6 (bench/figures/06_bindings.py): times Batch#add of every body in
# BODIES_FILE (one JSON text per line, read first) through the Ruby binding; no network.
#   ruby -I <repo>/bindings/ruby/lib -I <build>/bindings/ruby/lib add_bench.rb BODIES_FILE WORK_DIR
# Prints {"requests":N,"seconds":S,"per_s":R}.
require "json"
require "obatch"

bodies_file, work_dir = ARGV
bodies = File.readlines(bodies_file, chomp: true).reject(&:empty?)
# 50,000 per batch (OpenAI's limit); batches made and closed outside the timing.
s = 0.0
bodies.each_slice(50_000) do |slice|
  batch = Obatch::Batch.new(provider: "openai", work_dir: work_dir)
  t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  slice.each { |body| batch.add(body) }
  s += Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
  batch.close
end
puts JSON.generate({ requests: bodies.size, seconds: s, per_s: bodies.size / s })
