# frozen_string_literal: true

module Obatch
  # The gem's version; it follows the C library it wraps (OBATCH_VERSION_STRING).
  VERSION = "0.1.0"
end
