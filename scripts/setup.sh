#!/usr/bin/env bash
# Installs everything zcpool's build, tests and benchmarks need on Debian 12:
# Debian packages through apt-get, and the npm packages of the interop tests (DuckDB)
# into tests/interop/node_modules. Idempotent: run it as often as you like.
# Needs root (or sudo) for apt-get; without either it says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config git python3
  libcriterion-dev
  liblz4-dev libzstd-dev zlib1g-dev libjansson-dev
  libprotobuf-c-dev protobuf-c-compiler libsodium-dev libinih-dev iproute2
  clang libclang-rt-14-dev
  nodejs npm
  valgrind gnuplot-nox
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: need root to install: ${missing[*]}" >&2
    echo "setup: run 'apt-get install ${missing[*]}' as root, then run this again" >&2
    exit 1
  fi
  # node and npm may come from elsewhere than Debian; only ask apt for what is missing.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    filtered=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
    missing=("${filtered[@]}")
  fi
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# npm packages used by interop tests: pinned versions, no lockfile (see tests/interop/.npmrc).
if [ ! -f tests/interop/node_modules/@duckdb/node-bindings-linux-x64/libduckdb.so ] ||
   [ ! -d tests/interop/node_modules/apache-arrow ] ||
   [ ! -d tests/interop/node_modules/nodejs-polars-linux-x64-gnu ]; then
  echo "setup: installing npm packages for the interop tests"
  (cd tests/interop && npm install --no-audit --no-fund --loglevel=error)
fi
echo "setup: ok"
