# frozen_string_literal: true

module Obatch
  # Klass.open(**options) { |obj| ... } for the classes whose objects hold a
  # handle (Batch, Queue): closes obj when the block ends and returns the
  # block's value. Without a block, the same as new.
  module BlockOpen
    def open(**options)
      obj = new(**options)
      return obj unless block_given?

      begin
        yield obj
      ensure
        obj.close
      end
    end
  end
end
