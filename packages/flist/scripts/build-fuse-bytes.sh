#!/usr/bin/env bash
# Builds fuse-native's addon with byte-exact names (scripts/setup.sh runs this after npm ci).
#
# fuse-native 2.2.6 turns every path FUSE hands it into a JS string with napi_create_string_utf8
# (invalid UTF-8 bytes become U+FFFD before JS sees them) and reads readdir names / readlink targets
# back with napi_get_value_string_utf8 (which cannot produce invalid UTF-8). This build changes
# only those conversions to Latin-1 — one JS char per byte, so every byte sequence survives the
# round trip — and exports `zgrid_byte_paths = 1` so the mount knows (mount/fuse-binding.ts).
# The result goes to node_modules/fuse-native/build/Release/fuse.node, which node-gyp-build (what
# fuse-native's index.js loads) prefers over the prebuild. Needs gcc and the N-API headers
# (npm node-api-headers) and libuv's header (libuv1-dev); without them the prebuild stays and the mount shows U+FFFD (README).
#   bash packages/flist/scripts/build-fuse-bytes.sh [--force]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
nm="$root/node_modules"
src="$nm/fuse-native/fuse-native.c"
out="$nm/fuse-native/build/Release/fuse.node"
want="$(cat "$src" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
stamp="$nm/fuse-native/build/zgrid-bytes.stamp"
if [ "${1:-}" != "--force" ] && [ -f "$out" ] && [ "$(cat "$stamp" 2>/dev/null || true)" = "$want" ]; then exit 0; fi
command -v gcc >/dev/null || { echo "build-fuse-bytes: gcc missing; the FUSE mount keeps UTF-8 names (U+FFFD)" >&2; exit 0; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
{
  cat <<'C'
#include <node_api.h>
#define ZG_LATIN1(name, size, val) \
  char name[size]; \
  size_t name##_len; \
  if (napi_get_value_string_latin1(env, val, (char *) &name, size, &name##_len) != napi_ok) { \
    napi_throw_error(env, "EINVAL", "Expected string"); \
    return NULL; \
  }
static const uint32_t zgrid_byte_paths = 1;
C
  sed -e 's/napi_create_string_utf8(/napi_create_string_latin1(/g' \
      -e 's/NAPI_UTF8(name, 1024, raw_name)/ZG_LATIN1(name, 1024, raw_name)/' \
      -e 's/NAPI_ARGV_UTF8(linkname, l->len, 2)/ZG_LATIN1(linkname, l->len, argv[2])/' \
      -e 's/^\(\s*\)NAPI_EXPORT_UINT32(op_readlink)/&\n\1NAPI_EXPORT_UINT32(zgrid_byte_paths)/' \
      "$src"
} > "$work/fuse-native.c"
# Every conversion must have been replaced (a new fuse-native version would need a look).
# (The mountpoint and mount options stay UTF-8: they come from zgrid, not from FUSE.)
if grep -v "NAPI_ARGV_UTF8(mnt\(opts\)\?, 1024, [01])" "$work/fuse-native.c" | grep -q "string_utf8\|NAPI_UTF8\|NAPI_ARGV_UTF8"; then
  echo "build-fuse-bytes: fuse-native.c has UTF-8 conversions this patch does not know; keeping the prebuild" >&2
  exit 0
fi
grep -q "NAPI_EXPORT_UINT32(zgrid_byte_paths)" "$work/fuse-native.c" || { echo "build-fuse-bytes: export marker not placed" >&2; exit 1; }
fuse_inc="$nm/fuse-shared-library-linux/libfuse/include"
cp "$nm/fuse-native/semaphore.h" "$work/"  # its own "semaphore.h", next to the source as in the package
gcc -shared -fPIC -O2 -Wall -Wno-unused-function -Wno-unused-variable -Wno-sign-compare \
  -D_FILE_OFFSET_BITS=64 -DNAPI_VERSION=6 \
  -I "$nm/node-api-headers/include" -I "$nm/napi-macros" -I "$fuse_inc" \
  -o "$work/fuse.node" "$work/fuse-native.c" -l:libfuse.so.2 -lpthread
mkdir -p "$(dirname "$out")"
mv "$work/fuse.node" "$out"
echo "$want" > "$stamp"
echo "build-fuse-bytes: built $out" >&2
