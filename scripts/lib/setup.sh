# Sourced by scripts/demo.sh and scripts/test.sh: installs what is missing
# (Debian packages, only if missing), configures once and builds
# incrementally. Honours LLMC_BUILD_DIR (default: build/) and
# LLMC_CMAKE_ARGS (extra configure flags, e.g. -DLLMC_ENABLE_ASAN=ON).

set -euo pipefail

LLMC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LLMC_BUILD_DIR="${LLMC_BUILD_DIR:-$LLMC_ROOT/build}"
LLVM_PREFIX=/usr/lib/llvm-22

# Debian packages llmc builds and tests with.
LLMC_PACKAGES=(
  cmake ninja-build ccache
  clang-22 lld-22
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  libgtest-dev libonnx-dev libprotobuf-dev libonnx-testdata
  nlohmann-json3-dev libomp-22-dev
)
# Sanitizer builds need clang's runtime libraries.
case "${LLMC_CMAKE_ARGS:-}" in
  *LLMC_ENABLE_ASAN=ON*) LLMC_PACKAGES+=(libclang-rt-22-dev) ;;
esac

llmc_log() { printf '==> %s\n' "$*" >&2; }

llmc_install_packages() {
  local missing=()
  for pkg in "${LLMC_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  llmc_log "installing missing Debian packages: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
}

llmc_configure() {
  if [ -f "$LLMC_BUILD_DIR/build.ninja" ]; then
    return 0
  fi
  llmc_log "configuring in $LLMC_BUILD_DIR"
  local launcher=()
  command -v ccache >/dev/null &&
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # shellcheck disable=SC2086
  cmake -G Ninja -S "$LLMC_ROOT" -B "$LLMC_BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_USE_LINKER=lld \
    -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/bin/lit" \
    "${launcher[@]}" ${LLMC_CMAKE_ARGS:-} >/dev/null
}

llmc_build() {
  llmc_log "building"
  cmake --build "$LLMC_BUILD_DIR" -- -j"$(nproc)"
}

llmc_setup() {
  llmc_install_packages
  llmc_configure
  llmc_build
}
