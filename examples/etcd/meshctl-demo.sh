#!/usr/bin/env bash
# The meshctl half of the etcd demo, runnable alone: starts a private etcd on free loopback ports, imports a mesh,
# explains a request, shifts traffic with `meshctl put policy`, explains again, and stops etcd.
# The services of the demo read the same keys (MESH_ETCD_ENDPOINTS / MESH_ETCD_PREFIX) and follow the change live.
set -euo pipefail
cd "$(dirname "$0")/../.."

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
CLIENT_PORT=$(free_port); PEER_PORT=$(free_port)
DATA_DIR=$(mktemp -d)
etcd --name demo --data-dir "$DATA_DIR" --log-level error \
  --listen-client-urls "http://127.0.0.1:$CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$CLIENT_PORT" \
  --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
  --initial-cluster "demo=http://127.0.0.1:$PEER_PORT" >/dev/null 2>&1 &
ETCD_PID=$!
trap 'kill $ETCD_PID 2>/dev/null; wait $ETCD_PID 2>/dev/null; rm -rf "$DATA_DIR"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$CLIENT_PORT/health" >/dev/null && break; sleep 0.1; done

export MESH_ETCD_ENDPOINTS="http://127.0.0.1:$CLIENT_PORT" MESH_ETCD_PREFIX=/mesh
dotnet build tools/meshctl -c Release -nologo -v q >/dev/null
meshctl() { dotnet tools/meshctl/bin/Release/net10.0/meshctl.dll "$@"; }

meshctl import examples/etcd/mesh.json --replace
meshctl list
meshctl explain orders --path /api/orders --header x-user=beta-1
echo "--- shifting traffic: beta users to v2, everyone else 50/50 ---"
meshctl put policy orders examples/etcd/orders-policy-shift.json
meshctl explain orders --path /api/orders --header x-user=beta-1
meshctl get policy orders
