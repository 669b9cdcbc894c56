# frozen_string_literal: true

require "json"

module Obatch
  # A request body as the C API takes it, for Batch#add and Queue#put.
  module RequestBody
    module_function

    # JSON text of `body`: a Hash (with `model` merged in when it names
    # none) or JSON text as it is. `op` names the caller in a TypeError.
    def json(body, model, op)
      text =
        case body
        when Hash
          body = { "model" => model }.merge(body) if model && !body.key?("model") && !body.key?(:model)
          JSON.generate(body)
        when String then body
        else raise TypeError, "#{op}: the body must be a Hash or JSON text, not #{body.class}"
        end
      no_nul!(text)
    end

    def no_nul!(text)
      raise ArgumentError, "the request contains a NUL byte" if text.include?("\0")

      text
    end
  end
end
