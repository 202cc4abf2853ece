;; answer_lib with a name section: `answer`'s debug name is its export name, as a toolchain that
;; keeps function names writes it.
(module
  (func $answer (export "answer") (result i32) (i32.const 42)))
