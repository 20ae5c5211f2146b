# Sourced by the project's scripts: puts the project's own Node 22 first on PATH.
# Node 22 comes from the npm registry (package `node@22`) because Debian 12 ships Node 20 (PLATFORM.md).
ZGRID_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ZGRID_NODE_VERSION="22.23.3"
ZGRID_TOOLS="$ZGRID_ROOT/.tools"
ZGRID_NODE_BIN="$ZGRID_TOOLS/node/node_modules/.bin"
export PATH="$ZGRID_ROOT/node_modules/.bin:$ZGRID_NODE_BIN:$PATH"
export ZGRID_ROOT ZGRID_NODE_VERSION ZGRID_TOOLS ZGRID_NODE_BIN
# npm itself must run under Node 22 too, or it skips optional native packages that need >= 22.
zgrid_npm() {
  local cli
  cli="$(readlink -f "$(PATH=/usr/local/bin:/usr/bin:/bin command -v npm)")"
  "$ZGRID_NODE_BIN/node" "$cli" "$@"
}
