;; The middle of a chain: `answer` is six times b's `seven`.
(module
  (import "b" "seven" (func $seven (result i32)))
  (func (export "answer") (result i32) (i32.mul (call $seven) (i32.const 6))))
