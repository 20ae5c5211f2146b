#!/usr/bin/env bash
# Builds the Kubernetes server binaries zgrid's Kubernetes image uses, from Debian bookworm's
# `kubernetes` SOURCE package (upstream v1.20.2 with vendor/) with Debian's Go 1.19, offline.
# Cached outside the clone: a second run (any clone on this machine) returns at once.
#   bash packages/k8s/scripts/build-kubernetes.sh            # build or reuse
#   ZGRID_K8S_CACHE=/other/dir bash …/build-kubernetes.sh    # another cache
# Output: $ZGRID_K8S_CACHE/v1.20.2/bin/{kube-apiserver,kube-controller-manager,kube-scheduler,
#         kubelet,kube-proxy,kubectl,kubeadm}
# Three fixes the tree needs with Go >= 1.17 (found by trying, see the k8s README):
#  1. vendor/modules.txt is reordered (nothing added or removed) so `-mod=vendor` accepts it;
#  2. pkg/generated/openapi is generated with the vendored openapi-gen, as upstream's Makefile does;
#  3. vendored reflect2 1.0.1 (broken on Go >= 1.18: the apiserver segfaults on ?pretty / YAML) is
#     replaced by Debian's golang-github-modern-go-reflect2-dev 1.0.2.
# And one bug of v1.20.2 itself (Debian ships "1.20.5+really1.20.2": the upstream fix is not in it):
#  4. a dead node could never get its NoExecute taint, so its pods were never evicted (kubernetes
#     issue #94183, fixed upstream by PR #96876 in later patch releases). Every monitor pass
#     re-queues a NotReady/unreachable node with `SetRemove` (set only) + `Add`, which leaves the old
#     heap entry behind: duplicates pile up whenever the tainter is slower than the 10 s monitor
#     (nodes joining together, the "all nodes NotReady" disruption mode of a cluster's first
#     minute). Once that node is Ready its set entry is gone, so the stale head is "processed" every
#     10 s and never removed (RemoveFromQueue needs the set entry): the queue is blocked for good.
#     Seen here: a frozen worker sat at Ready=Unknown with no NoExecute taint for 15 min.
#     Fix: re-queue with `Remove` (set and heap), which keeps the heap a subset of the set.
set -euo pipefail
version=1.20.2
cache="${ZGRID_K8S_CACHE:-/var/cache/zgrid/kubernetes}/v$version"
bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl kubeadm)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
step() { printf '\033[1m==> k8s: %s\033[0m\n' "$*" >&2; }
inputs="$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
done_already() { [ "$(cat "$cache/stamp" 2>/dev/null || true)" = "$inputs" ] && for b in "${bins[@]}"; do [ -x "$cache/bin/$b" ] || return 1; done; }
if done_already; then exit 0; fi

mkdir -p "$cache"
exec 9>"$cache/.lock"; flock 9
if done_already; then exit 0; fi

# 1. toolchain + sources from Debian's archive
need=(golang-1.19-go golang-github-modern-go-reflect2-dev dpkg-dev rsync)
missing=(); for p in "${need[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
src_list=/etc/apt/sources.list.d/zgrid-bookworm-src.sources
if [ ! -f "$src_list" ]; then
  step "adding a bookworm deb-src entry ($src_list)"
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > "$src_list"
  apt-get update -qq
fi
work="$cache/src"
if [ ! -d "$work/tree/vendor" ]; then
  step "fetching the kubernetes source package"
  rm -rf "$work"; mkdir -p "$work"
  (cd "$work" && apt-get source -qq --download-only kubernetes >/dev/null && dpkg-source -x kubernetes_*.dsc tree >/dev/null)
fi
cd "$work/tree"
export GOROOT=/usr/lib/go-1.19 PATH="/usr/lib/go-1.19/bin:$PATH" GOFLAGS=-mod=vendor GOPROXY=off GO111MODULE=on
export GOCACHE="$cache/gocache" GOPATH="$cache/gopath"

# 2. fix 1: vendor/modules.txt in the order Go >= 1.17 expects
node "$here/fix-modules-txt.ts" vendor/modules.txt

# 3. fix 3: reflect2 1.0.2 from Debian
r2=/usr/share/gocode/src/github.com/modern-go/reflect2
if [ -d "$r2" ] && ! grep -q "1.0.2" vendor/github.com/modern-go/reflect2/.zgrid-version 2>/dev/null; then
  rsync -a --delete --exclude '*_test.go' "$r2/" vendor/github.com/modern-go/reflect2/
  echo 1.0.2 > vendor/github.com/modern-go/reflect2/.zgrid-version
fi

# 4. fix 4: the NoExecute tainter's queue keeps no stale entries (see the header)
nlc=pkg/controller/nodelifecycle/node_lifecycle_controller.go
if grep -q 'zoneNoExecuteTainter\[utilnode.GetZoneKey(node)\].SetRemove(node.Name)' "$nlc"; then
  sed -i 's/zoneNoExecuteTainter\[utilnode.GetZoneKey(node)\].SetRemove(node.Name)/zoneNoExecuteTainter[utilnode.GetZoneKey(node)].Remove(node.Name)/' "$nlc"
  rm -f "$cache/bin/kube-controller-manager"
fi
grep -q 'SetRemove(node.Name)' "$nlc" && { echo "k8s: the node lifecycle fix did not apply to $nlc" >&2; exit 1; }

# 5. fix 2: generated openapi definitions
if [ ! -s pkg/generated/openapi/zz_generated.openapi.go ]; then
  step "generating pkg/generated/openapi"
  go build -o "$cache/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
  # the directories upstream's Makefile.generated_files feeds it: every Go dir of the tree (staging
  # named as vendor/), files tagged +k8s:openapi-gen=, minus code-generator and sample-apiserver;
  # given here as import paths (module mode) instead of GOPATH paths
  pkgs="$(find -H . \( -path ./_\* -o -path './.*' -o -path ./vendor \) -prune -o -type f -name '*.go' -print \
    | sed 's|^./staging/src|vendor|; s|^./||' | xargs grep -l '+k8s:openapi-gen=' | xargs -n1 dirname | LC_ALL=C sort -u \
    | grep -v -e '^vendor/k8s.io/code-generator' -e '^vendor/k8s.io/sample-apiserver' \
    | sed 's|^vendor/||; t; s|^|k8s.io/kubernetes/|' | paste -sd, -)"
  "$cache/openapi-gen" --go-header-file vendor/k8s.io/code-generator/hack/boilerplate.go.txt \
    --input-dirs "$pkgs" --output-package k8s.io/kubernetes/pkg/generated/openapi --output-base "$work/gen" \
    -O zz_generated.openapi --report-filename "$work/openapi-violations.txt"
  # as upstream's Makefile: the API rule report must equal the tree's known list (same inputs)
  diff <(LC_ALL=C sort "$work/openapi-violations.txt") <(LC_ALL=C sort api/api-rules/violation_exceptions.list) >/dev/null \
    || { echo "k8s: openapi-gen's API rule report differs from api/api-rules/violation_exceptions.list (inputs differ from upstream's)" >&2; exit 1; }
  cp "$work/gen/k8s.io/kubernetes/pkg/generated/openapi/zz_generated.openapi.go" pkg/generated/openapi/
fi

# 6. the binaries (static where upstream makes them so)
mkdir -p "$cache/bin"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=v$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=20 -X k8s.io/component-base/version.gitTreeState=clean -X k8s.io/client-go/pkg/version.gitVersion=v$version"
for b in "${bins[@]}"; do
  [ -x "$cache/bin/$b" ] && continue
  step "building $b"
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$cache/bin/$b.tmp" "./cmd/$b"
  mv "$cache/bin/$b.tmp" "$cache/bin/$b"
done
echo "$inputs" > "$cache/stamp"
step "done: $cache/bin"
