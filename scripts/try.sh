#!/usr/bin/env bash
# npm run try: the extension in a real VS Code (code-server) in your browser, on a copy of
# the CRM example. Builds, packages the .vsix, starts code-server on 127.0.0.1 and prints the
# URL; Ctrl-C stops everything. code-server itself is installed once into ~/.cache/mcp-policy.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build
exec node scripts/try.mjs "$@"
