#!/usr/bin/env bash
# The cost of a whole meshed hop in one process: benchmarks/Mesh.SelfCall, an app that knows nothing of Mesh, serves a
# tiny response and calls itself with a plain HttpClient (both sides of a hop, as a middle tier is). Modes:
#   none        no hook
#   control     no hook again: the A/A pair, how far two identical runs differ
#   hookdirect  the hook attached (file config naming the app as service orders), calls to the app's own address:
#               inbound chain on every request, nothing routed
#   hookrouted  the hook attached, calls to http://orders/: routed by the mesh to the app, inbound chain on
# Each round runs every mode once (order rotating); the medians over ROUNDS (default 5) are printed with ratios to
# none: steady-state process CPU per call (after a warm-up) and calls/s, and the CPU spent before the measured part
# (start-up and warm-up). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
calls=${CALLS:-40000}
modes=(none control hookdirect hookrouted)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet build benchmarks/Mesh.SelfCall -c Release -nologo -v q >/dev/null
dotnet publish listeners/Mesh.StartupHook -c Release -o "$work/hook" -nologo -v q >/dev/null
app=benchmarks/Mesh.SelfCall/bin/Release/net10.0/Mesh.SelfCall.dll
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/mesh.json" <<JSON
{ "services": { "orders": { "endpoints": [ { "id": "self", "address": "http://127.0.0.1:$port" } ] } } }
JSON

run() {
  local hook=() target=http://127.0.0.1:$port/
  case $1 in
    hookdirect) hook=(DOTNET_STARTUP_HOOKS="$work/hook/Mesh.StartupHook.dll" MESH_CONFIG="$work/mesh.json" MESH_SERVICE_NAME=orders) ;;
    hookrouted) hook=(DOTNET_STARTUP_HOOKS="$work/hook/Mesh.StartupHook.dll" MESH_CONFIG="$work/mesh.json" MESH_SERVICE_NAME=orders); target=http://orders/ ;;
  esac
  env "${hook[@]}" PORT="$port" TARGET="$target" CALLS="$calls" dotnet "$app"
}

for ((r = 0; r < rounds; r++)); do
  for ((i = 0; i < ${#modes[@]}; i++)); do
    mode=${modes[$(( (i + r) % ${#modes[@]} ))]}
    echo "$mode $(run "$mode")" >> "$work/results"
  done
done

python3 - "$work/results" "$rounds" "$calls" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()
    values = dict(zip(parts[1::2], parts[2::2]))
    rows.setdefault(parts[0], []).append(values)
def median(mode, key): return statistics.median(float(v[key]) for v in rows[mode])
base_cpu, base_rps = median("none", "cpu_us_per_call"), median("none", "rps")
print(f"{sys.argv[2]} rounds of {sys.argv[3]} calls, 8 callers, tiny responses; medians")
print(f"{'mode':<11} {'CPU us/call':>11} {'added':>8} {'calls/s':>8} {'ratio':>6} {'B/call':>7} {'start-up+warm-up CPU ms':>24}")
for mode in ["none", "control", "hookdirect", "hookrouted"]:
    cpu, rps = median(mode, "cpu_us_per_call"), median(mode, "rps")
    print(f"{mode:<11} {cpu:>11.2f} {cpu - base_cpu:>+8.2f} {rps:>8.0f} {rps / base_rps:>6.3f} {median(mode, 'bytes_per_call'):>7.0f} {median(mode, 'startup_cpu_ms'):>24.0f}")
PY
