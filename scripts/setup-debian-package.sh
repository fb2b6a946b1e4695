#!/usr/bin/env bash
# Installs Debian packages a test needs when they are missing: `setup-debian-package.sh neovim`.
# apt allows one install at a time, so installs from test files running at once (and from
# scripts/setup-code-server.sh) take one machine-wide lock and look again once they hold it.
# Exits 0 when every package is installed; otherwise prints apt's reason and exits 1.
set -euo pipefail
[ "$#" -gt 0 ] || { echo "usage: $0 PACKAGE..." >&2; exit 2; }

missing_packages() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$pkg"
  done
}

mapfile -t missing < <(missing_packages "$@")
[ "${#missing[@]}" -eq 0 ] && exit 0
exec 8>"${TMPDIR:-/tmp}/mcp-policy-apt.lock"
flock 8
mapfile -t missing < <(missing_packages "$@")
[ "${#missing[@]}" -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo -n); fi
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "${SUDO[@]}" "${APT[@]}" update -q && "${SUDO[@]}" "${APT[@]}" install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  reason=$(grep -m1 '^E: ' "$log" || tail -n 1 "$log")
  echo "cannot install ${missing[*]}: ${reason}" >&2
  exit 1
fi
