#!/usr/bin/env bash
# The meshctl half of the etcd demo, runnable alone: starts a private etcd on free loopback ports, imports a mesh,
# explains a request, shifts traffic with `meshctl put policy`, explains again, and stops etcd.
# The services of the demo read the same keys (MESH_ETCD_ENDPOINTS / MESH_ETCD_PREFIX) and follow the change live.
set -euo pipefail
cd "$(dirname "$0")/../.."

source tools/etcd.sh
ensure_etcd
start_private_etcd
export MESH_ETCD_PREFIX=/mesh
dotnet build tools/meshctl -c Release -nologo -v q >/dev/null
meshctl() { dotnet tools/meshctl/bin/Release/net10.0/meshctl.dll "$@"; }

meshctl import examples/etcd/mesh.json --replace
meshctl list
meshctl explain orders --path /api/orders --header x-user=beta-1
echo "--- shifting traffic: beta users to v2, everyone else 50/50 ---"
meshctl put policy orders examples/etcd/orders-policy-shift.json
meshctl explain orders --path /api/orders --header x-user=beta-1
meshctl get policy orders
