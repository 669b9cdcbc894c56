# frozen_string_literal: true

require_relative "test_helper"

# The generated layer: names, constants and conversions.
class TestRaw < Minitest::Test
  def test_versions_agree
    assert_equal Obatch::VERSION, Obatch::Raw::OBATCH_VERSION_STRING
    assert_equal Obatch::Raw::OBATCH_VERSION_STRING, Obatch.library_version
    major, minor, patch = Obatch.library_version.split(".").map(&:to_i)
    assert_equal major * 10_000 + minor * 100 + patch, Obatch.library_version_number
    assert_equal Obatch::Raw::OBATCH_VERSION_NUMBER, Obatch::Raw.obatch_version_number
  end

  def test_strings_are_utf8_and_nil_for_null
    assert_equal Encoding::UTF_8, Obatch.strerror(-4).encoding
    assert_equal "unknown or unsuitable provider", Obatch.strerror(-11)
    rc, conf = Obatch::Raw.obatch_config_new
    assert_equal 0, rc
    assert_nil Obatch::Raw.obatch_config_get(conf, "provider")
    rc, err = Obatch::Raw.obatch_config_set(conf, "bogus", "1")
    assert_equal Obatch::Raw::OBATCH_ECONFIG, rc
    assert_match(/bogus/, err)
    rc, err = Obatch::Raw.obatch_config_set(conf, "custom_id_prefix", "ü")
    assert_equal [0, ""], [rc, err]
    assert_equal "ü", Obatch::Raw.obatch_config_get(conf, "custom_id_prefix")
    Obatch::Raw.obatch_config_destroy(conf)
  end

  def test_out_parameters_come_back_as_values
    rc, conf = Obatch::Raw.obatch_config_new
    Obatch::Raw.obatch_config_set(conf, "provider", "openai")
    rc, batch = Obatch::Raw.obatch_create(conf)
    assert_equal 0, rc
    assert_kind_of Obatch::Raw::BatchHandle, batch
    rc, info = Obatch::Raw.obatch_poll(batch, 0)
    assert_equal 0, rc
    assert_equal Obatch::Raw::OBATCH_PHASE_BUILDING, info[:phase]
    assert_equal "openai", info[:provider]
    rc, result = Obatch::Raw.obatch_fetch(batch)
    assert_equal Obatch::Raw::OBATCH_ESTATE, rc
    assert_kind_of Hash, result
    refute_empty Obatch::Raw.obatch_last_error(batch)
    assert File.exist?(Obatch::Raw.obatch_input_path(batch))
    Obatch::Raw.obatch_destroy(batch)
    Obatch::Raw.obatch_config_destroy(conf)
  end

  def test_handles_cannot_be_made_from_ruby
    assert_raises(NoMethodError, TypeError) { Obatch::Raw::BatchHandle.new }
  end
end
