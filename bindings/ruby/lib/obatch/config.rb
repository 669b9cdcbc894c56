# frozen_string_literal: true

module Obatch
  # Keyword options -> an obatch_config_t. Each key is a configuration key of
  # the C library (provider:, base_url:, api_key:, poll_interval_ms:, ...);
  # metadata: {k => v} sets metadata.k; values are passed as strings, nil
  # values are skipped. An unknown key or a bad value raises ConfigError.
  module Config
    module_function

    # Yields a configuration handle made from options and destroys it after.
    def with(options)
      rc, conf = Raw.obatch_config_new
      raise Error.for(rc, "obatch_config_new failed") unless rc == Raw::OBATCH_OK

      begin
        options.each { |key, value| set_option(conf, key.to_s, value) }
        yield conf
      ensure
        Raw.obatch_config_destroy(conf)
      end
    end

    def set_option(conf, key, value)
      return if value.nil?

      if key == "metadata"
        raise ArgumentError, "metadata: must be a Hash" unless value.respond_to?(:each_pair)

        value.each_pair { |k, v| set(conf, "metadata.#{k}", v) }
      else
        set(conf, key, value)
      end
    end

    def set(conf, key, value)
      return if value.nil?

      text = value.is_a?(String) ? value : value.to_s
      raise ArgumentError, "#{key}: contains a NUL byte" if text.include?("\0") || key.include?("\0")

      rc, err = Raw.obatch_config_set(conf, key, text)
      raise Error.for(rc, err.to_s.empty? ? "#{key}: #{Obatch.strerror(rc)}" : err) unless rc == Raw::OBATCH_OK
    end
  end
end
