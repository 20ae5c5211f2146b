#!/usr/bin/env bash
# Setup hook (run by scripts/setup.sh): the Kubernetes server binaries (Debian-source v1.20.2 build,
# ~14 min cold on 2 cores) and the Debian base of the Kubernetes image (debootstrap, a few minutes),
# both cached outside the clone in /var/cache/zgrid/kubernetes and reused by every clone: when they
# are there this returns in well under a second. ZGRID_SKIP_K8S=1 skips it (machines that never run
# Kubernetes). The image root itself (binaries + guest kernel modules + pause image) is assembled
# when an image is first built (src/k8s-flist.ts), after the zos hook built the guest kernel.
set -euo pipefail
[ "${ZGRID_SKIP_K8S:-}" = 1 ] && exit 0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$here/build-kubernetes.sh"
bash "$here/build-image-root.sh" --base-only >/dev/null
