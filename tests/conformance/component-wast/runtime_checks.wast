;; Runtime checks the shared component-model scripts do not make (they need async built-ins for
;; them, or do not test them): may_leave in post-return and realloc, the core function types the
;; canonical ABI calls, complex results lifted to the host, parameters spilled to memory.
;; Compiled with jco by run_component_wast_checks.sh; run with `cumulus component-wast`.

(component definition $Leave
  (import "host-return-two" (func $two (result u32)))
  (core func $two (canon lower (func $two)))
  (type $R (resource (rep i32)))
  (core func $new (canon resource.new $R))
  (core func $rep (canon resource.rep $R))
  (core module $M
    (import "" "two" (func $two (result i32)))
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "rep" (func $rep (param i32) (result i32)))
    (memory (export "mem") 1)
    (global $h (mut i32) (i32.const 0))
    (global $bump (mut i32) (i32.const 1024))
    (func (export "f") (result i32) (global.set $h (call $new (i32.const 9))) (i32.const 1))
    (func (export "pr-import") (param i32) (drop (call $two)))
    (func (export "pr-new") (param i32) (drop (call $new (i32.const 1))))
    (func (export "pr-rep") (param i32) (drop (call $rep (global.get $h))))
    (func (export "realloc-import") (param i32 i32 i32 i32) (result i32)
      (drop (call $two)) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (local $r i32)
      (local.set $r (global.get $bump))
      (global.set $bump (i32.add (global.get $bump) (local.get 3)))
      (local.get $r))
    (func (export "take") (param i32 i32) (result i32) (local.get 1))
  )
  (core instance $m (instantiate $M (with "" (instance
    (export "two" (func $two)) (export "new" (func $new)) (export "rep" (func $rep))))))
  (func (export "import-in-post-return") (result u32)
    (canon lift (core func $m "f") (post-return (core func $m "pr-import"))))
  (func (export "new-in-post-return") (result u32)
    (canon lift (core func $m "f") (post-return (core func $m "pr-new"))))
  (func (export "rep-in-post-return") (result u32)
    (canon lift (core func $m "f") (post-return (core func $m "pr-rep"))))
  (func (export "import-in-realloc") (param "s" string) (result u32)
    (canon lift (core func $m "take") (memory (core memory $m "mem"))
      (realloc (core func $m "realloc-import"))))
  (func (export "len") (param "s" string) (result u32)
    (canon lift (core func $m "take") (memory (core memory $m "mem"))
      (realloc (core func $m "realloc"))))
)
;; post-return and realloc run with may_leave cleared: imports and resource.new trap, rep does not
(component instance $i $Leave)
(assert_trap (invoke "import-in-post-return") "cannot leave component instance")
(component instance $i $Leave)
(assert_trap (invoke "new-in-post-return") "cannot leave component instance")
(component instance $i $Leave)
(assert_return (invoke "rep-in-post-return") (u32.const 1))
(assert_return (invoke "rep-in-post-return") (u32.const 1))
(assert_trap (invoke "import-in-realloc" (str.const "hi")) "cannot leave component instance")
(component instance $i $Leave)
(assert_return (invoke "len" (str.const "hello")) (u32.const 5))

;; the canonical ABI calls core functions with exactly their flattened types
(assert_invalid
  (component
    (core module $M (func (export "f") (result i32 i64) (i32.const 0) (i64.const 0)))
    (core instance $m (instantiate $M))
    (func (export "f") (result u32) (canon lift (core func $m "f"))))
  "core function of type")
(assert_invalid
  (component
    (core module $M
      (memory (export "mem") 1)
      (func (export "f") (param i32 i32))
      (func (export "realloc") (param i32 i32 i32) (result i32) (i32.const 0)))
    (core instance $m (instantiate $M))
    (func (export "f") (param "s" string)
      (canon lift (core func $m "f") (memory (core memory $m "mem")) (realloc (core func $m "realloc")))))
  "core function of type")
(assert_invalid
  (component
    (core module $M (func (export "f") (result i32) (i32.const 0)) (func (export "pr")))
    (core instance $m (instantiate $M))
    (func (export "f") (result u32) (canon lift (core func $m "f") (post-return (core func $m "pr")))))
  "core function of type")
(assert_invalid
  (component
    (core module $M (func (export "dtor") (param i32 i32)))
    (core instance $m (instantiate $M))
    (type $R (resource (rep i32) (dtor (core func $m "dtor")))))
  "core function of type")

;; complex results lifted to the host, flat and through a return pointer; params spilled to memory
(component
  (core module $M
    (memory (export "mem") 1)
    (data (i32.const 100) "hello")
    (data (i32.const 200) "\01\00\00\00\02\00\00\00\03\00\00\00")
    ;; record { s: string, l: list<u32>, c: char, b: bool } at 300
    (data (i32.const 300) "\64\00\00\00\05\00\00\00\c8\00\00\00\03\00\00\00\03\26\00\00\01")
    ;; option<result<string, u32>>: some(err(7)) at 400
    (data (i32.const 400) "\01\00\00\00\01\00\00\00\07\00\00\00")
    ;; variant { a(u32), b(f32), c(u64) }: b(3.14159274) at 504
    (data (i32.const 504) "\01\00\00\00\00\00\00\00\db\0f\49\40")
    (func (export "rec") (result i32) (i32.const 300))
    (func (export "opt") (result i32) (i32.const 400))
    (func (export "flags") (result i32) (i32.const 0x5))
    (func (export "f64") (result f64) (f64.const -2.5))
    (func (export "var") (result i32) (i32.const 504))
    (func (export "echo-spilled") (param i32) (result i32) (i32.load offset=64 (local.get 0)))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 2048))
  )
  (core instance $m (instantiate $M))
  (type $rec' (record (field "s" string) (field "l" (list u32)) (field "c" char) (field "b" bool)))
  (export $rec "rec-t" (type $rec'))
  (type $fl' (flags "x" "y" "z"))
  (export $fl "fl-t" (type $fl'))
  (type $v' (variant (case "a" u32) (case "b" f32) (case "c" u64)))
  (export $v "v-t" (type $v'))
  (func (export "rec") (result $rec) (canon lift (core func $m "rec") (memory (core memory $m "mem"))))
  (func (export "opt") (result (option (result string (error u32))))
    (canon lift (core func $m "opt") (memory (core memory $m "mem"))))
  (func (export "flags") (result $fl) (canon lift (core func $m "flags")))
  (func (export "f64") (result f64) (canon lift (core func $m "f64")))
  (func (export "var") (result $v) (canon lift (core func $m "var") (memory (core memory $m "mem"))))
  (func (export "echo-spilled")
    (param "a" u32) (param "b" u32) (param "c" u32) (param "d" u32) (param "e" u32) (param "f" u32)
    (param "g" u32) (param "h" u32) (param "i" u32) (param "j" u32) (param "k" u32) (param "l" u32)
    (param "m" u32) (param "n" u32) (param "o" u32) (param "p" u32) (param "q" u32)
    (result u32)
    (canon lift (core func $m "echo-spilled") (memory (core memory $m "mem"))
      (realloc (core func $m "realloc"))))
)
(assert_return (invoke "rec")
  (record.const (field "s" (str.const "hello")) (field "l" (list.const (u32.const 1) (u32.const 2) (u32.const 3)))
    (field "c" (char.const "☃")) (field "b" (bool.const true))))
(assert_return (invoke "opt") (option.some (result.err (u32.const 7))))
(assert_return (invoke "flags") (flags.const "x" "z"))
(assert_return (invoke "f64") (f64.const -2.5))
(assert_return (invoke "var") (variant.const "b" (f32.const 3.14159274)))
(assert_return (invoke "echo-spilled" (u32.const 0) (u32.const 1) (u32.const 2) (u32.const 3)
  (u32.const 4) (u32.const 5) (u32.const 6) (u32.const 7) (u32.const 8) (u32.const 9) (u32.const 10)
  (u32.const 11) (u32.const 12) (u32.const 13) (u32.const 14) (u32.const 15) (u32.const 16))
  (u32.const 16))
