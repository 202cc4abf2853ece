;; `lookup` hands the call to the library's `lookup`.
(module
  (import "lib" "lookup" (func $lookup))
  (memory (export "memory") 1)
  (func (export "lookup") (result i32) (call $lookup) (i32.const 0)))
