#!/usr/bin/env bash
# Install Claude Code's CLI (a real MCP client) for the wrap test.
#
# Idempotent, non-interactive. Installed into a cache folder OUTSIDE the repo, keyed by version:
#
#   CACHE  = ${MCP_POLICY_CACHE:-$HOME/.cache/mcp-policy}/claude-code-$VERSION
#   CLAUDE = $CACHE/node_modules/@anthropic-ai/claude-code/cli.js (or its bin entry)
#   marker = $CACHE/.complete   (written last; without it the install is redone)
#
# Prints, as its last line: CLAUDE=<abs path of the claude executable>
set -euo pipefail

CLAUDE_CODE_VERSION="${MCP_POLICY_CLAUDE_CODE_VERSION:-2.1.332}"
CACHE_ROOT="${MCP_POLICY_CACHE:-${HOME:-/root}/.cache/mcp-policy}"
CACHE="$CACHE_ROOT/claude-code-$CLAUDE_CODE_VERSION"
CLAUDE="$CACHE/node_modules/.bin/claude"
MARKER="$CACHE/.complete"

log() { printf '[setup-claude-code] %s\n' "$*" >&2; }

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.setup-claude-code.lock"
flock 9

if [ ! -f "$MARKER" ]; then
  start=$(date +%s)
  log "installing @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION into $CACHE"
  rm -rf "$CACHE"
  mkdir -p "$CACHE"
  # An npm that runs this (npm test) exports npm_* / npm_config_* to its children, and a
  # nested npm takes them as its own configuration: remove them all.
  for name in $(env | sed -n 's/^\([Nn][Pp][Mm]_[^=]*\)=.*/\1/p'); do unset "$name"; done
  export npm_config_yes=true npm_config_audit=false npm_config_fund=false
  export npm_config_update_notifier=false npm_config_progress=false npm_config_loglevel=warn
  (cd "$CACHE" &&
    printf '{"private":true,"allowScripts":{"@anthropic-ai/claude-code":true}}\n' > package.json &&
    npm install --no-save "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" >&2)
  if [ ! -e "$CLAUDE" ]; then log "the package did not provide $CLAUDE"; exit 1; fi
  tmp_home=$(mktemp -d)
  HOME="$tmp_home" "$CLAUDE" --version >&2
  rm -rf "$tmp_home"
  date -u +%FT%TZ > "$MARKER"
  log "installed in $(( $(date +%s) - start ))s"
fi

echo "CLAUDE=$CLAUDE"
