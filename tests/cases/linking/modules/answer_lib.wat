;; A library with no imports: `answer` returns 42.
(module
  (func (export "answer") (result i32) (i32.const 42)))
