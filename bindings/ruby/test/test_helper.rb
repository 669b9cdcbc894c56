# frozen_string_literal: true

# Shared by every test: loads obatch, keeps the environment hermetic, and
# starts the fake Batch server (tests/fake_server/fake_batch_server.py) on a
# free loopback port.
#
# Environment (CMake sets it; the defaults work from a checkout):
#   OBATCH_FAKE_SERVER  the server script
#   OBATCH_PYTHON       its interpreter (python3)
#   OBATCH_RUBY_EXT_DIR where obatch/obatch_raw.so is (put on the load path)
ext_dir = ENV["OBATCH_RUBY_EXT_DIR"]
$LOAD_PATH.unshift(ext_dir) if ext_dir && !ext_dir.empty?

require "fileutils"
require "json"
require "net/http"
require "rbconfig"
require "tmpdir"
require "minitest/autorun"

# The library's private work dirs go into a directory of our own, and no key
# or base URL of the caller's environment leaks into a test.
KEY_ENV = %w[OPENAI_API_KEY OPENAI_BASE_URL PARASAIL_API_KEY PARASAIL_BASE_URL
             ANTHROPIC_API_KEY ANTHROPIC_BASE_URL OBATCH_PROVIDERS].freeze
KEY_ENV.each { |k| ENV.delete(k) }
TEST_TMP = Dir.mktmpdir("obatch-ruby-test-")
ENV["TMPDIR"] = TEST_TMP
Minitest.after_run { FileUtils.rm_rf(TEST_TMP) }

require "obatch"

# One fake_batch_server.py process; stop always ends it.
class FakeServer
  KEY = "test-key"
  SCRIPT = ENV.fetch("OBATCH_FAKE_SERVER") do
    File.expand_path("../../../tests/fake_server/fake_batch_server.py", __dir__)
  end
  PYTHON = ENV.fetch("OBATCH_PYTHON", "python3")

  attr_reader :root, :base_url

  def initialize(config = {})
    @tmp = Dir.mktmpdir("obatch-fake-", TEST_TMP)
    port_file = File.join(@tmp, "port")
    @pid = Process.spawn(PYTHON, SCRIPT, "--port", "0", "--port-file", port_file,
                         "--api-key", KEY, "--max-lifetime", "300",
                         "--config", JSON.generate(config),
                         out: File::NULL, err: File.join(@tmp, "server.log"))
    port = wait_for_port(port_file)
    @root = "http://127.0.0.1:#{port}"
    @base_url = "#{@root}/v1"
  end

  def stop
    return unless @pid

    begin
      Process.kill("TERM", @pid)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 5
      until Process.waitpid(@pid, Process::WNOHANG)
        if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
          Process.kill("KILL", @pid)
          Process.waitpid(@pid)
          break
        end
        sleep 0.02
      end
    rescue Errno::ESRCH, Errno::ECHILD
      nil
    end
    @pid = nil
    FileUtils.rm_rf(@tmp)
  end

  def stats
    JSON.parse(Net::HTTP.get(URI("#{@root}/_control/stats")))
  end

  def configure(update)
    res = Net::HTTP.post(URI("#{@root}/_control/config"), JSON.generate(update),
                         "Content-Type" => "application/json")
    raise "config: #{res.code} #{res.body}" unless res.code == "200"
  end

  # The options that point a batch at this server.
  def options
    { provider: "openai", base_url: @base_url, api_key: KEY,
      poll_interval_ms: 20, poll_max_interval_ms: 50 }
  end

  private

  def wait_for_port(port_file)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 10
    while Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
      if Process.waitpid(@pid, Process::WNOHANG)
        @pid = nil
        raise "fake server exited early: #{File.read(File.join(@tmp, "server.log")) rescue ""}"
      end
      text = File.read(port_file) rescue nil
      return Integer(text.strip) if text && !text.strip.empty?

      sleep 0.02
    end
    stop
    raise "fake server wrote no port file within 10 s"
  end
end

# Helpers for tests that talk to a fake server.
module ServerTest
  def start_server(config = {})
    server = FakeServer.new(config)
    @servers ||= []
    @servers << server
    server
  end

  def teardown
    (@batches || []).each(&:close)
    (@servers || []).each(&:stop)
    FileUtils.rm_rf(@work_dir) if @work_dir
    super
  end

  def work_dir
    @work_dir ||= Dir.mktmpdir("obatch-work-", TEST_TMP)
  end

  # A batch pointed at server; closed after the test.
  def new_batch(server, **options)
    batch = Obatch::Batch.new(**server.options, work_dir: work_dir, **options)
    (@batches ||= []) << batch
    batch
  end

  def chat(text)
    { messages: [{ role: "user", content: text }] }
  end
end
