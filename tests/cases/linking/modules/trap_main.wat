;; `run` calls the library's `boom`, which traps.
(module
  (import "lib" "boom" (func $boom))
  (memory (export "memory") 1)
  (func (export "run") (result i32) (call $boom) (i32.const 0)))
