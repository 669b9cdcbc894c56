# Classify three sentences with one batch, at half the price.
#
#   OPENAI_API_KEY=sk-... ruby quickstart.rb
require "obatch"

texts = ["I love it", "It broke after a day", "Okay, I guess"]

begin
  Obatch::Batch.open(model: "gpt-4o-mini", metadata: { project: "quickstart" }) do |batch|
    texts.each do |text| # ids: request-1, request-2, ...
      batch.add({ messages: [{ role: "user", content: "Positive, negative or neutral? #{text}" }] })
    end
    batch.submit

    info = begin
      batch.wait do |progress| # other threads keep running meanwhile
        warn "#{progress.phase} #{progress.remote_status} " \
             "#{progress.requests_completed}/#{progress.requests_total}"
      end
    rescue Obatch::ExpiredError, Obatch::CancelledError => e
      e.info # ended early: the finished results are read below, the rest are missing
    end
    puts "batch #{info.batch_id} #{info.remote_status}; output in #{info.output_path}"

    batch.each_result do |r| # input order, failures and gaps included
      answer = if r.succeeded? then r.body.dig("choices", 0, "message", "content")
               elsif r.missing? then "(no result)"
               else r.error_message
               end
      puts "#{r.custom_id} -> #{r.status_code} #{answer.to_s[0, 60]}"
    end
  end
rescue Obatch::Error => e
  warn "obatch: #{e.message}"
  exit 1
end
