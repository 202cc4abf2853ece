;; A library whose `boom` traps.
(module
  (func (export "boom") unreachable))
