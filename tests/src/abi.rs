//! The ABI lint: a module's imports and exports, read with wasmparser before anything runs, and
//! checked against the contract (CONTRACT.md): `env.hostMemoryGet` is `(i64) -> i64`, every
//! contract export exists as `() -> i32`, and nothing is imported from outside the Extism
//! kernel, WASI preview 1 and `env.hostMemoryGet`.

use std::fmt;

use crate::protocol::HOST_MEMORY_GET;
use anyhow::Context;
use wasmparser::{CompositeInnerType, ExternalKind, FuncType, Parser, Payload, TypeRef, ValType};

pub use suite::CONTRACT_EXPORTS;

/// The Extism kernel's module.
const KERNEL_MODULE: &str = "extism:host/env";

/// Every function of the Extism kernel a plugin may import, with its type: the kernel's own
/// (extism's kernel/src/lib.rs) and the runtime's (runtime/src/plugin.rs, `add_funcs!`). An
/// import of another name from the kernel's module would fail to link on the reference host,
/// and one of another type would fail on some host and not on another.
const KERNEL_IMPORTS: &[(&str, &str)] = &[
    ("alloc", "(i64) -> i64"),
    ("free", "(i64) -> ()"),
    ("length", "(i64) -> i64"),
    ("length_unsafe", "(i64) -> i64"),
    ("load_u8", "(i64) -> i32"),
    ("load_u64", "(i64) -> i64"),
    ("input_load_u8", "(i64) -> i32"),
    ("input_load_u64", "(i64) -> i64"),
    ("store_u8", "(i64, i32) -> ()"),
    ("store_u64", "(i64, i64) -> ()"),
    ("input_set", "(i64, i64) -> ()"),
    ("output_set", "(i64, i64) -> ()"),
    ("input_length", "() -> i64"),
    ("input_offset", "() -> i64"),
    ("output_length", "() -> i64"),
    ("output_offset", "() -> i64"),
    ("reset", "() -> ()"),
    ("error_set", "(i64) -> ()"),
    ("error_get", "() -> i64"),
    ("memory_bytes", "() -> i64"),
    ("config_get", "(i64) -> i64"),
    ("var_get", "(i64) -> i64"),
    ("var_set", "(i64, i64) -> ()"),
    ("http_request", "(i64, i64) -> i64"),
    ("http_status_code", "() -> i32"),
    ("http_headers", "() -> i64"),
    ("log_trace", "(i64) -> ()"),
    ("log_debug", "(i64) -> ()"),
    ("log_info", "(i64) -> ()"),
    ("log_warn", "(i64) -> ()"),
    ("log_error", "(i64) -> ()"),
    ("get_log_level", "() -> i32"),
];

/// Import modules a plugin may use besides `env.hostMemoryGet`.
const ALLOWED_IMPORT_MODULES: &[&str] = &["extism:host/env", "wasi_snapshot_preview1"];

/// A function type in the contract's notation, such as `(i64) -> i64`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signature(String);

impl Signature {
    fn of(ty: &FuncType) -> Signature {
        let list = |types: &[ValType]| {
            types
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        Signature(format!(
            "({}) -> {}",
            list(ty.params()),
            match ty.results() {
                [one] => one.to_string(),
                more => format!("({})", list(more)),
            }
        ))
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a module imports and exports, each item with its kind (and type, for functions).
#[derive(Clone)]
pub struct Surface {
    /// `(module, name, description)`, in the module's order.
    imports: Vec<(String, String, String)>,
    /// `(name, description)`, in the module's order.
    exports: Vec<(String, String)>,
}

impl Surface {
    pub fn read(wasm: &[u8]) -> anyhow::Result<Surface> {
        let mut types = Vec::new();
        let mut function_types = Vec::new();
        let mut imports = Vec::new();
        let mut exports = Vec::new();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.context("not a readable WebAssembly module")? {
                Payload::TypeSection(reader) => {
                    for group in reader {
                        for sub in group?.into_types() {
                            types.push(match &sub.composite_type.inner {
                                CompositeInnerType::Func(func) => Some(Signature::of(func)),
                                _ => None,
                            });
                        }
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import?;
                        let description = match import.ty {
                            TypeRef::Func(index) | TypeRef::FuncExact(index) => {
                                function_types.push(index);
                                describe_func(&types, index)
                            }
                            TypeRef::Memory(_) => "memory".to_owned(),
                            TypeRef::Table(_) => "table".to_owned(),
                            TypeRef::Global(_) => "global".to_owned(),
                            TypeRef::Tag(_) => "tag".to_owned(),
                        };
                        imports.push((
                            import.module.to_owned(),
                            import.name.to_owned(),
                            description,
                        ));
                    }
                }
                Payload::FunctionSection(reader) => {
                    for index in reader {
                        function_types.push(index?);
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export?;
                        let description = match export.kind {
                            ExternalKind::Func | ExternalKind::FuncExact => {
                                match function_types.get(export.index as usize) {
                                    Some(&index) => describe_func(&types, index),
                                    None => "func of unknown type".to_owned(),
                                }
                            }
                            ExternalKind::Memory => "memory".to_owned(),
                            ExternalKind::Table => "table".to_owned(),
                            ExternalKind::Global => "global".to_owned(),
                            ExternalKind::Tag => "tag".to_owned(),
                        };
                        exports.push((export.name.to_owned(), description));
                    }
                }
                _ => {}
            }
        }
        Ok(Surface { imports, exports })
    }

    /// The names of the functions the module exports, in its order.
    pub fn exported_functions(&self) -> impl Iterator<Item = &str> {
        let functions = self
            .exports
            .iter()
            .filter(|(_, what)| what.starts_with("func "));
        functions.map(|(name, _)| name.as_str())
    }

    /// Every way the surface breaks the contract, one line each: the item, what was expected,
    /// what was found.
    pub fn violations(&self) -> Vec<String> {
        let mut violations = Vec::new();
        let host_memory_get = format!("func {}", Signature("(i64) -> i64".to_owned()));
        let contract_export = format!("func {}", Signature("() -> i32".to_owned()));
        match self
            .imports
            .iter()
            .find(|(module, name, _)| module == "env" && name == HOST_MEMORY_GET)
        {
            Some((_, _, found)) if *found != host_memory_get => violations.push(format!(
                "import env.{}: expected {host_memory_get}, found {found}",
                HOST_MEMORY_GET
            )),
            Some(_) => {}
            None => violations.push(format!(
                "import env.{}: expected {host_memory_get}, found no such import",
                HOST_MEMORY_GET
            )),
        }
        for (module, name, found) in &self.imports {
            if module == KERNEL_MODULE {
                match KERNEL_IMPORTS.iter().find(|(kernel, _)| kernel == name) {
                    Some((_, ty)) if *found != format!("func {ty}") => violations.push(format!(
                        "import {module}.{name}: expected func {ty}, found {found}"
                    )),
                    Some(_) => {}
                    None => violations.push(format!(
                        "import {module}.{name}: the Extism kernel has no such function, found {found}"
                    )),
                }
            }
            let is_host_function = module == "env" && name == HOST_MEMORY_GET;
            if !is_host_function && !ALLOWED_IMPORT_MODULES.contains(&module.as_str()) {
                violations.push(format!(
                    "import {module}.{name}: expected imports only from env.{}, {}, found {found}",
                    HOST_MEMORY_GET,
                    ALLOWED_IMPORT_MODULES.join(" and ")
                ));
            }
        }
        for &export in CONTRACT_EXPORTS {
            match self.exports.iter().find(|(name, _)| name == export) {
                Some((_, found)) if *found != contract_export => violations.push(format!(
                    "export {export}: expected {contract_export}, found {found}"
                )),
                Some(_) => {}
                None => violations.push(format!(
                    "export {export}: expected {contract_export}, found no such export"
                )),
            }
        }
        violations
    }

    /// The whole surface as text, sorted, for the language's surface snapshot.
    pub fn render(&self) -> String {
        let mut lines: Vec<String> = self
            .imports
            .iter()
            .map(|(module, name, description)| format!("import {module}.{name}: {description}"))
            .collect();
        lines.sort();
        let mut exports: Vec<String> = self
            .exports
            .iter()
            .map(|(name, description)| format!("export {name}: {description}"))
            .collect();
        exports.sort();
        lines.extend(exports);
        lines.join("\n")
    }
}

fn describe_func(types: &[Option<Signature>], index: u32) -> String {
    match types.get(index as usize) {
        Some(Some(signature)) => format!("func {signature}"),
        _ => format!("func of type {index}, which is not a function type"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lint must catch what it exists for: a `hostMemoryGet` of the wrong type, and the rest.
    #[test]
    fn lint_names_each_violation_with_expected_and_found() {
        let wasm = wat::parse_str(
            r#"(module
                 (import "env" "hostMemoryGet" (func (param i32) (result i32)))
                 (import "env" "somethingElse" (func))
                 (import "extism:host/env" "var_set" (func (param i64) (result i64)))
                 (import "extism:host/env" "var_delete" (func (param i64)))
                 (import "extism:host/env" "config_get" (func (param i64) (result i64)))
                 (func (export "say_hello") (result i32) (i32.const 0))
                 (func (export "echo") (param i32) (result i32) (i32.const 0)))"#,
        )
        .unwrap();
        let violations = Surface::read(&wasm).unwrap().violations();
        assert_eq!(
            violations[..6],
            [
                "import env.hostMemoryGet: expected func (i64) -> i64, found func (i32) -> i32",
                "import env.somethingElse: expected imports only from env.hostMemoryGet, extism:host/env and wasi_snapshot_preview1, found func () -> ()",
                "import extism:host/env.var_set: expected func (i64, i64) -> (), found func (i64) -> i64",
                "import extism:host/env.var_delete: the Extism kernel has no such function, found func (i64) -> ()",
                "export lookup: expected func () -> i32, found no such export",
                "export count_calls: expected func () -> i32, found no such export",
            ]
        );
        assert!(violations
            .contains(&"export echo: expected func () -> i32, found func (i32) -> i32".to_owned()));
        // Every contract export but the two defined is missing, each named once.
        assert_eq!(violations.len(), 4 + CONTRACT_EXPORTS.len() - 1);
        assert!(violations.contains(
            &"export error_then_zero: expected func () -> i32, found no such export".to_owned()
        ));
    }

    #[test]
    fn a_missing_host_import_is_named() {
        let wasm = wat::parse_str(r#"(module)"#).unwrap();
        let violations = Surface::read(&wasm).unwrap().violations();
        assert_eq!(
            violations[0],
            "import env.hostMemoryGet: expected func (i64) -> i64, found no such import"
        );
    }

    #[test]
    fn bytes_that_are_not_a_module_are_an_error() {
        let error = Surface::read(b"not wasm").err().unwrap();
        assert_eq!(error.to_string(), "not a readable WebAssembly module");
    }
}
