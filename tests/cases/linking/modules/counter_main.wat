;; `next` outputs the library's counter after one more step, as one decimal digit (calls 1-9).
(module
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (import "lib" "next" (func $next (result i32)))
  (memory (export "memory") 1)
  (func (export "next") (result i32)
    (local $out i64)
    (local.set $out (call $alloc (i64.const 1)))
    (call $store_u8 (local.get $out) (i32.add (i32.const 48) (i32.rem_u (call $next) (i32.const 10))))
    (call $output_set (local.get $out) (i64.const 1))
    (i32.const 0)))
