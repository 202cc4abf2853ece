set shell := ["bash", "-uc"]

_default:
    @just --list

# Install what this machine can install by itself (TinyGo on Debian), then list the toolchains
setup:
    cargo xtask setup

# Every toolchain: found or missing, version, required or optional, fix
doctor:
    cargo xtask doctor

# The seed's demo: say_hello of every plugin language on every host
demo *args:
    cargo xtask demo {{args}}

# Build every plugin language into target/plugins/<lang>/ (no-op when nothing changed)
build-plugins *args:
    cargo xtask build-plugins {{args}}

# Build the hosts that are programs of their own into target/hosts/<host>/
build-hosts:
    cargo xtask build-hosts

# Build the hostile test plugins of plugins-hostile/ into target/hostile/<lang>/
build-hostile:
    cargo xtask build-hostile

# Call one export of a plugin with this workspace's host functions (see `host call --help`)
call *args:
    cargo run --quiet --package host -- call {{args}}

# The conformance run and the repository checks
test *args:
    cargo test {{args}}

alias t := test

# Accept or reject changed snapshots (needs `cargo install cargo-insta`)
review:
    cargo insta review

# Format the Rust workspaces (host, plugins-rust, plugins-hostile/rust) and the Go modules
fmt:
    cargo xtask fmt

# Clippy with warnings as errors and go vet: every Rust workspace and Go module
lint:
    cargo xtask lint

# Benchmark every host and the conformance loop, then write docs/performance.md (--no-run: rewrite it from the last results)
bench-report *args:
    cargo xtask bench-report {{args}}

# Exactly what CI does, CI=true included
ci:
    CI=true bash .ci/run
