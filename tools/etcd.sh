# Sourced by the repository's scripts: etcd from the Debian package, and a private etcd on free loopback ports.

# Installs etcd-server when the machine has no etcd.
ensure_etcd() {
  if ! command -v etcd >/dev/null 2>&1; then
    echo "installing etcd-server (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq etcd-server etcd-client >/dev/null
    # The package may start a system etcd on the default ports; nothing here uses it.
    (systemctl stop etcd 2>/dev/null || service etcd stop 2>/dev/null || pkill -x etcd 2>/dev/null || true)
  fi
}

# Starts a one-member etcd on free 127.0.0.1 ports with a throw-away data directory, waits until it is healthy,
# exports MESH_ETCD_ENDPOINTS, and stops it when the calling script exits.
start_private_etcd() {
  local client_port peer_port
  client_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  peer_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  ETCD_DATA_DIR=$(mktemp -d)
  etcd --name demo --data-dir "$ETCD_DATA_DIR" --log-level error \
    --listen-client-urls "http://127.0.0.1:$client_port" --advertise-client-urls "http://127.0.0.1:$client_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "demo=http://127.0.0.1:$peer_port" >/dev/null 2>&1 &
  ETCD_PID=$!
  # etcd killed by the trap reports 143 to `wait`; under the callers' `set -e` that would end the trap early (no
  # cleanup) and become the script's exit status, so the trap ignores it and exits with the script's own status.
  trap 'status=$?; kill $ETCD_PID 2>/dev/null || true; wait $ETCD_PID 2>/dev/null || true; rm -rf "$ETCD_DATA_DIR"; exit $status' EXIT
  export MESH_ETCD_ENDPOINTS="http://127.0.0.1:$client_port"
  for _ in $(seq 1 100); do
    curl -sf "$MESH_ETCD_ENDPOINTS/health" >/dev/null && return 0
    sleep 0.1
  done
  echo "etcd did not become healthy on $MESH_ETCD_ENDPOINTS" >&2
  return 1
}
