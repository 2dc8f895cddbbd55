#!/bin/bash
# A real single-node Kubernetes v1.20.2 cluster on this machine for Argosy's end-to-end suite.
# Wraps recipe.sh (etcd + apiserver + controller-manager + scheduler + kubelet on containerd/runc)
# and adds what the recipe leaves out but in-cluster Argosy needs: pods reaching the API server
# through the `kubernetes` Service IP (there is no kube-proxy; see README.md "In-cluster API").
#
#   scripts/k8s/cluster.sh up          # start (binaries must be built; ARGOSY_E2E_BUILD=1 builds them, ~25 min)
#   scripts/k8s/cluster.sh down        # stop everything it started, remove pod netns/mounts/bridge
#   scripts/k8s/cluster.sh status      # processes; exit 0 when the API answers
#   scripts/k8s/cluster.sh has-binaries  # exit 0 when the four Kubernetes binaries are built
#   scripts/k8s/cluster.sh import TAR  # load a docker-save image tarball into the node's containerd
#   scripts/k8s/cluster.sh kubeconfig  # print the admin kubeconfig path
#   scripts/k8s/cluster.sh verify      # a busybox pod to Succeeded (the recipe's smoke test)
#
# Env: K8S_ROOT (default ~/.cache/k8s-local; state, binaries, logs - never inside the repo),
#      ARGOSY_K8S_RECIPE (default: ../shared/tools/k8s-local/recipe.sh beside the checkout, else
#      /work/shared/tools/k8s-local/recipe.sh), ARGOSY_E2E_BUILD=1 (build missing binaries).
# Needs root. Exit codes: 0 ok, 3 binaries missing (and no ARGOSY_E2E_BUILD=1), other: failure.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
find_recipe() {  # the team recipe: $ARGOSY_K8S_RECIPE, else ../shared beside the checkout, else the team's /work/shared
  local c
  for c in "${ARGOSY_K8S_RECIPE:-}" "$HERE/../../../shared/tools/k8s-local/recipe.sh" /work/shared/tools/k8s-local/recipe.sh; do
    if [ -n "$c" ] && [ -f "$c" ]; then echo "$c"; return 0; fi
  done
  return 1
}
RECIPE=$(find_recipe) || RECIPE=${ARGOSY_K8S_RECIPE:-$HERE/../../../shared/tools/k8s-local/recipe.sh}
export K8S_ROOT=${K8S_ROOT:-$HOME/.cache/k8s-local}
ROOT=$K8S_ROOT
KCFG=$ROOT/kubeconfig
SOCK=$ROOT/containerd/containerd.sock
PROXY_PID=$ROOT/argosy/api-proxy.pid    # not under run/: `recipe.sh stop` deletes run/*.pid
PROXY_IP_FILE=$ROOT/argosy/api-proxy.ip
log() { echo "[$(date +%T)] cluster: $*" >&2; }

has_binaries() {
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet; do [ -x "$ROOT/bin/$b" ] || return 1; done
}

need_tools() {  # runtime packages the recipe's `deps` phase installs (apt); installed only when missing
  local t missing=0
  for t in etcd containerd runc ctr socat openssl iptables; do command -v $t >/dev/null || missing=1; done
  [ -x /usr/lib/cni/bridge ] || missing=1
  if [ $missing = 1 ]; then log "runtime packages missing: running recipe deps"; bash "$RECIPE" deps; fi
}

api_up() { kubectl --kubeconfig "$KCFG" get --raw /readyz >/dev/null 2>&1; }

# ---- in-cluster API: the `kubernetes` Service IP answered on this host -------------------------
# kube-apiserver listens on 127.0.0.1:6443 only and no kube-proxy runs, so KUBERNETES_SERVICE_HOST
# (10.0.0.1:443, injected into every pod) routes nowhere. Pods' default route is the cni0 bridge on
# this host, so putting the Service IP on `lo` and forwarding 443 -> 127.0.0.1:6443 with socat makes
# in-cluster clients (the controller Deployment, wait/resource/GC containers) work unchanged; the
# serving certificate already names 10.0.0.1 and kubernetes.default.svc.
proxy_start() {
  local ip
  ip=$(kubectl --kubeconfig "$KCFG" -n default get svc kubernetes -o jsonpath='{.spec.clusterIP}' 2>/dev/null || true)
  ip=${ip:-10.0.0.1}
  if [ -f "$PROXY_PID" ] && kill -0 "$(cat "$PROXY_PID")" 2>/dev/null; then log "API proxy already running"; return; fi
  mkdir -p "$ROOT/argosy" "$ROOT/logs"
  ip -4 addr show dev lo | grep -q " $ip/" || ip addr add "$ip/32" dev lo
  echo "$ip" > "$PROXY_IP_FILE"
  nohup socat "TCP-LISTEN:443,bind=$ip,fork,reuseaddr" TCP:127.0.0.1:6443 > "$ROOT/logs/argosy-api-proxy.log" 2>&1 &
  echo $! > "$PROXY_PID"
  log "pods reach the API server at https://$ip:443 (socat pid $(cat "$PROXY_PID"))"
}

proxy_stop() {
  local p ip
  if [ -f "$PROXY_PID" ]; then
    p=$(cat "$PROXY_PID"); kill "$p" 2>/dev/null || true
    for _ in 1 2 3 4 5; do kill -0 "$p" 2>/dev/null || break; sleep 1; done
    kill -9 "$p" 2>/dev/null || true
    rm -f "$PROXY_PID"
  fi
  if [ -f "$PROXY_IP_FILE" ]; then
    ip=$(cat "$PROXY_IP_FILE"); ip addr del "$ip/32" dev lo 2>/dev/null || true; rm -f "$PROXY_IP_FILE"
  fi
}

up() {
  local s=$SECONDS
  if ! has_binaries; then
    if [ "${ARGOSY_E2E_BUILD:-0}" != 1 ]; then
      log "Kubernetes binaries not built in $ROOT/bin (set ARGOSY_E2E_BUILD=1 to build them: about 10-25 min)"; exit 3
    fi
    log "building Kubernetes v1.20.2 binaries into $ROOT/bin (ARGOSY_E2E_BUILD=1)"
    bash "$RECIPE" deps; bash "$RECIPE" build
  fi
  need_tools
  if api_up; then log "cluster already up ($KCFG)"; proxy_start; return; fi
  [ -f "$ROOT/pki/ca.crt" ] && [ -f "$ROOT/kubeconfig" ] || bash "$RECIPE" pki
  [ -f "$ROOT/images/pause.tar" ] && [ -f "$ROOT/images/busybox.tar" ] || bash "$RECIPE" images
  bash "$RECIPE" start
  proxy_start
  log "up in $((SECONDS - s))s; KUBECONFIG=$KCFG"
}

down() {
  proxy_stop
  if [ -d "$ROOT/run" ]; then bash "$RECIPE" stop; fi
}

case "${1:-}" in
  up) up;;
  down|stop) down;;
  status) bash "$RECIPE" status 2>/dev/null || true
          if [ -f "$PROXY_PID" ] && kill -0 "$(cat "$PROXY_PID")" 2>/dev/null; then echo "argosy-api-proxy: running (pid $(cat "$PROXY_PID"))"; fi
          api_up;;
  has-binaries) has_binaries;;
  recipe) find_recipe || { echo "recipe.sh not found (set ARGOSY_K8S_RECIPE; looked beside the checkout and in /work/shared)" >&2; exit 3; };;
  import) [ -n "${2:-}" ] || { echo "usage: $0 import IMAGE.tar" >&2; exit 2; }
          ctr -a "$SOCK" -n k8s.io images import "$2" >/dev/null;;
  kubeconfig) echo "$KCFG";;
  verify) bash "$RECIPE" verify;;
  *) echo "usage: $0 up|down|status|has-binaries|import TAR|kubeconfig|verify" >&2; exit 2;;
esac
