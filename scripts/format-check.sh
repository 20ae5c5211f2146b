#!/usr/bin/env bash
# Checks formatting (prettier, .prettierrc.json) of the TypeScript files changed since BASE
# (default: main). The tree was not reformatted in one go (that would conflict with every branch
# in flight); files converge as they are touched. `npm run format -- <files>` formats them.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:-main}"
mapfile -t files < <(git diff --name-only --diff-filter=ACMR "$base" -- '*.ts' | while read -r f; do [ -f "$f" ] && echo "$f"; done)
if [ "${#files[@]}" -eq 0 ]; then echo "format-check: no changed .ts files since $base"; exit 0; fi
exec npx prettier --check "${files[@]}"
