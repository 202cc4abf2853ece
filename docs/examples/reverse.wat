;; An Extism plugin written by hand, with no PDK: only the Extism kernel's functions, so any
;; host can load it. `reverse` outputs its input backwards, byte by byte; `give_up` fails the
;; call by returning 1 without an error message, which the SDKs report each their own way. Run
;; it on every host with `cargo xtask matrix call docs/examples/reverse.wat reverse --input hello`
;; (README, "Is my plugin portable?").
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  (func (export "reverse") (result i32)
    (local $length i64) (local $output i64) (local $at i64)
    (local.set $length (call $input_length))
    (local.set $output (call $alloc (local.get $length)))
    (block $done
      (loop $next
        (br_if $done (i64.ge_u (local.get $at) (local.get $length)))
        ;; Input byte `at` goes to output byte `length - 1 - at`.
        (call $store_u8
          (i64.sub (i64.add (local.get $output) (local.get $length))
                   (i64.add (local.get $at) (i64.const 1)))
          (call $input_load_u8 (local.get $at)))
        (local.set $at (i64.add (local.get $at) (i64.const 1)))
        (br $next)))
    (call $output_set (local.get $output) (local.get $length))
    (i32.const 0))
  ;; A non-zero return code is how an export fails; the message (kernel `error_set`) is optional.
  (func (export "give_up") (result i32)
    (i32.const 1)))
