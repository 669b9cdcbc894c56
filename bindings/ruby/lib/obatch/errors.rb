# frozen_string_literal: true

require "timeout"

module Obatch
  # Every error obatch raises. #code is the C library's obatch_code (a
  # negative Integer), #code_name its name (:EJSON, :ELIMIT, ...). Rescue a
  # family (RequestError, RemoteError, BatchEndedError) or one class.
  class Error < StandardError
    attr_reader :code

    CODE = -22 # EINTERNAL: only for an Error raised without a code

    def initialize(message = nil, code: nil)
      @code = code || self.class::CODE
      super(message || Obatch.strerror(@code))
    end

    def code_name
      CODE_NAMES[@code]
    end

    # The exception for a status code, with a message (the library's own
    # message when it has one).
    def self.for(code, message = nil)
      message = nil if message && message.empty?
      klass = CODE_CLASSES.fetch(code, Error)
      klass.new(message || Obatch.strerror(code), code: code)
    end
  end

  class InvalidArgumentError < Error; CODE = -1; end   # EINVAL
  # A call on a closed Batch or Queue (EINVAL, as in Node and Go).
  class ClosedError < InvalidArgumentError; CODE = -1; end
  class OutOfMemoryError < Error; CODE = -2; end       # ENOMEM
  class ConfigError < Error; CODE = -3; end            # ECONFIG

  # The request was refused when added; nothing was added.
  class RequestError < Error; CODE = -5; end
  class JSONError < RequestError; CODE = -4; end         # EJSON
  class InvalidRequestError < RequestError; CODE = -5; end # EREQUEST
  class DuplicateIdError < RequestError; CODE = -6; end  # EDUPLICATE
  class LimitError < RequestError; CODE = -7; end        # ELIMIT
  class ModelError < RequestError; CODE = -8; end        # EMODEL

  class StateError < Error; CODE = -9; end             # ESTATE
  class FileError < Error; CODE = -10; end             # EIO
  class ProviderError < Error; CODE = -11; end         # EPROVIDER
  class AuthError < Error; CODE = -12; end             # EAUTH

  # Talking to the API went wrong (after the library's retries).
  class RemoteError < Error; CODE = -13; end
  class NetworkError < RemoteError; CODE = -13; end    # ENETWORK
  class HTTPError < RemoteError; CODE = -14; end       # EHTTP
  class ProtocolError < RemoteError; CODE = -15; end   # EPROTOCOL

  class InsecureError < Error; CODE = -16; end         # EINSECURE
  # ETIMEOUT: a wait ran out of time (the batch goes on). From Queue#wait,
  # #entry is the request as it was then. A ::Timeout::Error, so code that
  # rescues Ruby's own timeouts catches it; `rescue Obatch::Error` catches it
  # too (Error.=== below), though it is not an Obatch::Error subclass (Ruby
  # has one superclass).
  class TimeoutError < ::Timeout::Error
    CODE = -17
    attr_reader :code
    attr_accessor :entry

    def initialize(message = nil, code: nil)
      @code = code || CODE
      super(message || Obatch.strerror(@code))
    end

    def code_name
      CODE_NAMES[@code]
    end
  end

  class Error
    # `rescue Obatch::Error` also catches Obatch::TimeoutError.
    def self.===(other)
      super || (equal?(Error) && other.is_a?(TimeoutError))
    end
  end
  class NotFoundError < Error; CODE = -18; end         # ENOTFOUND

  # The batch ended without completing. From Batch#wait, #info is the final
  # Info; after an expired or cancelled batch the finished results are read
  # from the batch as usual (the rest come back :missing).
  class BatchEndedError < Error
    CODE = -19
    attr_accessor :info
  end
  class FailedError < BatchEndedError; CODE = -19; end     # EFAILED
  class ExpiredError < BatchEndedError; CODE = -20; end    # EEXPIRED
  class CancelledError < BatchEndedError; CODE = -21; end  # ECANCELLED

  class InternalError < Error; CODE = -22; end         # EINTERNAL: please report
  # EABORTED: the call was ended from another thread (Timeout, Thread#kill,
  # Ctrl-C); the interrupt itself is what the caller sees.
  class AbortedError < Error; CODE = -23; end

  # obatch_code values by name (:OK, :END, :EINVAL, ...).
  CODES = {
    OK: 0, END: 1, EINVAL: -1, ENOMEM: -2, ECONFIG: -3, EJSON: -4, EREQUEST: -5,
    EDUPLICATE: -6, ELIMIT: -7, EMODEL: -8, ESTATE: -9, EIO: -10, EPROVIDER: -11,
    EAUTH: -12, ENETWORK: -13, EHTTP: -14, EPROTOCOL: -15, EINSECURE: -16,
    ETIMEOUT: -17, ENOTFOUND: -18, EFAILED: -19, EEXPIRED: -20, ECANCELLED: -21,
    EINTERNAL: -22, EABORTED: -23
  }.freeze
  CODE_NAMES = CODES.invert.freeze

  CODE_CLASSES = {
    -1 => InvalidArgumentError, -2 => OutOfMemoryError, -3 => ConfigError,
    -4 => JSONError, -5 => InvalidRequestError, -6 => DuplicateIdError,
    -7 => LimitError, -8 => ModelError, -9 => StateError, -10 => FileError,
    -11 => ProviderError, -12 => AuthError, -13 => NetworkError, -14 => HTTPError,
    -15 => ProtocolError, -16 => InsecureError, -17 => TimeoutError,
    -18 => NotFoundError, -19 => FailedError, -20 => ExpiredError,
    -21 => CancelledError, -22 => InternalError, -23 => AbortedError
  }.freeze
end
