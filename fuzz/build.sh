#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer's coverage instrumentation on the stable toolchain:
# the flags cargo-fuzz would pass, minus the sanitizer (which needs nightly). The explicit
# --target keeps them off build scripts and proc macros.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
target="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --target "$target" --bins
echo "built: fuzz/target/$target/release/{scenario,tables,trace,merge,run}"
