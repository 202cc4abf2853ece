set shell := ["bash", "-uc"]

_default:
    @just --list

# The seed's demo: say_hello of every plugin language through the Rust host
demo *args:
    cargo xtask demo {{args}}

# Build every plugin language into target/plugins/<lang>/ (no-op when nothing changed)
build-plugins *args:
    cargo xtask build-plugins {{args}}

# The conformance run and the repository checks
test *args:
    cargo test {{args}}

alias t := test

# Accept or reject changed snapshots (needs `cargo install cargo-insta`)
review:
    cargo insta review

# Format the host workspace and the plugins
fmt:
    cargo xtask fmt

# Clippy with warnings as errors, host workspace and plugins
lint:
    cargo xtask lint

# Exactly what CI does
ci:
    bash .ci/run
