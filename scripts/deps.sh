#!/usr/bin/env bash
# Installs the Debian packages lienthong needs to build, run and test.
# Quick when everything is present: it asks dpkg first and calls apt-get only for what is missing.
# usage: scripts/deps.sh [build|test|bench|fuzz]   (default: build)
set -euo pipefail
what=${1:-build}
build=(pkg-config libmicrohttpd-dev libcurl4-openssl-dev libxml2-dev libjansson-dev libjwt-dev
       liblmdb-dev libssl-dev libgnutls28-dev cmake make gcc curl ca-certificates)
# rsdmx: test_sdmx.py reads our SDMX-ML with it; python3-lmdb: test_audit.py alters an entry
test=(python3 openssl lmdb-utils python3-zeep python3-lxml python3-spyne r-cran-rsdmx
      python3-lmdb)
bench=(wrk nginx-light)
fuzz=(clang libclang-rt-14-dev)
pkgs=("${build[@]}")
case "$what" in
  build) ;;
  test) pkgs+=("${test[@]}") ;;
  bench) pkgs+=("${test[@]}" "${bench[@]}") ;;
  fuzz) pkgs+=("${fuzz[@]}") ;;
  *) echo "usage: $0 [build|test|bench|fuzz]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "deps: missing packages: ${missing[*]} (run as root, or install them)" >&2; exit 1; fi
else SUDO=; fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
