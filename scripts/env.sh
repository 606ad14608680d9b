# Sourced by the other scripts: where builds go and which tools come first on PATH.

# Build artefacts live outside the checkout so a fresh clone on a machine that built before
# only recompiles the workspace crates (cargo still rebuilds whatever changed).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/endpoint-analytics/target}"
# Incremental artefacts grow by gigabytes per build and a fresh clone never reuses them.
export CARGO_INCREMENTAL=0
# npm's binaryen (wasm-opt 132) must win over Debian's binaryen 108, which breaks hydration.
export PATH="$PWD/end2end/node_modules/.bin:${HOME:-/root}/.cargo/bin:$PATH"
