#!/usr/bin/env bash
# Sets up everything zgrid needs on a Debian 12 machine, as root. Idempotent: every step checks
# first and does nothing when it is already done, so a second run takes about a second.
#   bash scripts/setup.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ZGRID_ROOT"
step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# 1. Debian packages (only the missing ones; apt-get update only when something is missing).
# The list is scripts/apt-packages.txt plus each package's own packages/*/apt-packages.txt.
mapfile -t wanted < <(cat scripts/apt-packages.txt packages/*/apt-packages.txt 2>/dev/null | grep -Ev '^\s*(#|$)' | sort -u)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  [ "$(id -u)" = 0 ] || { echo "setup: installing Debian packages needs root (run as root or with sudo)" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Node 22 from the npm registry into .tools/node.
if [ "$("$ZGRID_NODE_BIN/node" -v 2>/dev/null || true)" != "v$ZGRID_NODE_VERSION" ]; then
  step "installing Node $ZGRID_NODE_VERSION into .tools/node"
  rm -rf "$ZGRID_TOOLS/node"
  mkdir -p "$ZGRID_TOOLS/node"
  (cd "$ZGRID_TOOLS/node" && /usr/bin/npm install --no-save --no-audit --no-fund --loglevel=error \
    --prefix . "node@$ZGRID_NODE_VERSION" >/dev/null)
  "$ZGRID_NODE_BIN/node" -v >/dev/null
fi

# 3. npm dependencies, installed under Node 22, redone only when package-lock.json changed.
stamp="node_modules/.zgrid-deps"
want="$(cat package-lock.json package.json packages/*/package.json 2>/dev/null | sha256sum | cut -d' ' -f1)-$ZGRID_NODE_VERSION"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  step "installing npm dependencies"
  zgrid_npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# 4. Per-package setup hooks (guest kernel build, contract bindings, ...), each idempotent.
for hook in packages/*/scripts/setup.sh; do
  [ -f "$hook" ] || continue
  bash "$hook"
done
# 5. `zgrid` on PATH for every shell, from any directory, always under the project's Node 22 (the
# system's Node 20 cannot run it). Rewritten only when it points elsewhere (another clone). The
# stripped-source cache is in place before the entry file: a warm start never loads Node's
# TypeScript stripper (~0.05-0.1 s of every command).
launcher="${ZGRID_BIN_DIR:-/usr/local/bin}/zgrid"
want_launcher="$(printf '#!/bin/sh\n# zgrid launcher written by %s/scripts/setup.sh\nexec "%s/node" --disable-warning=ExperimentalWarning --import=file://%s/packages/types/src/runtime/strip-cache-register.js "%s/packages/cli/bin/zgrid.ts" "$@"\n' "$ZGRID_ROOT" "$ZGRID_NODE_BIN" "$ZGRID_ROOT" "$ZGRID_ROOT")"
if [ "$(cat "$launcher" 2>/dev/null || true)" != "$want_launcher" ]; then
  if [ -w "$(dirname "$launcher")" ]; then
    printf '%s\n' "$want_launcher" > "$launcher" && chmod 0755 "$launcher"
    step "installed $launcher"
  else
    echo "setup: cannot write $launcher (not root?): run zgrid as $ZGRID_NODE_BIN/node $ZGRID_ROOT/packages/cli/bin/zgrid.ts" >&2
  fi
fi
step "setup done (node $("$ZGRID_NODE_BIN/node" -v))"
