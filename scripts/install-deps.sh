#!/usr/bin/env bash
# Installs what natter needs from Debian's packages. Idempotent, and quick when all is there.
# Runs as root, or as a user who may use sudo.
#
#   scripts/install-deps.sh          what building and running natter needs (the first README
#                                    command: compiler, CMake, libsodium, Asio, nlohmann-json,
#                                    SQLite, ncurses, libedit, CLI11, toml++)
#   scripts/install-deps.sh --test   that, plus what only the tests need (doctest, lua5.2 and
#                                    tshark for the Wireshark dissector, tmux for the terminal UI,
#                                    clang for fuzzing, shellcheck for these scripts)
#   scripts/install-deps.sh --list [--test]   print the package names and stop
set -euo pipefail

build_packages=(
  build-essential cmake pkg-config
  libsodium-dev libasio-dev nlohmann-json3-dev libsqlite3-dev libncurses-dev libedit-dev
  libcli11-dev libtomlplusplus-dev          # command lines; config files
)
test_packages=(
  doctest-dev                               # unit tests
  lua5.2 tshark                             # Wireshark dissector tests
  tmux                                      # terminal UI tests
  clang libclang-rt-14-dev                  # fuzzing: libFuzzer (scripts/fuzz.sh)
  shellcheck                                # lint of scripts/, .ci/ and the test scripts
)

with_tests=0
list_only=0
for arg in "$@"; do
  case "$arg" in
    --test) with_tests=1 ;;
    --list) list_only=1 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

packages=("${build_packages[@]}")
[ "$with_tests" -eq 1 ] && packages+=("${test_packages[@]}")
if [ "$list_only" -eq 1 ]; then
  echo "${packages[*]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

# apt-get as root, directly or through sudo. The variable apt-get needs is set by env(1) under
# sudo, not inherited (sudo resets the environment, and -E needs a sudoers permission of its own).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    env DEBIAN_FRONTEND=noninteractive "$@"
  elif command -v sudo >/dev/null; then
    sudo env DEBIAN_FRONTEND=noninteractive "$@"
  else
    echo "install-deps: needs root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
}

echo "install-deps: installing ${missing[*]}"
as_root apt-get update -qq
as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
