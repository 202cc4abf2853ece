;; `echo` and `fail` hand the whole call to the library's functions of the same names.
(module
  (import "lib" "echo" (func $echo))
  (import "lib" "fail" (func $fail (result i32)))
  (memory (export "memory") 1)
  (func (export "echo") (result i32) (call $echo) (i32.const 0))
  (func (export "fail") (result i32) (call $fail)))
