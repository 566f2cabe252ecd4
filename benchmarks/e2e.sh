#!/usr/bin/env bash
# End-to-end load comparison on loopback, all in one run: the same client app calling a backend
#   direct   plain HttpClient -> backend
#   hook     plain HttpClient to http://backend/ under DOTNET_STARTUP_HOOKS (Mesh routes it)
#   factory  IHttpClientFactory client of a host without the mesh: the baseline of addmesh
#   addmesh  IHttpClientFactory client of a host with AddMesh().AddResilience()
#   nginx    plain HttpClient -> nginx (1 worker, keep-alive upstream) -> backend   (a sidecar)
#   yarp     plain HttpClient -> YARP proxy -> backend                             (a sidecar)
# and, on request (MODES), two diagnostics of the hook's own cost:
#   hookpass   hook attached with rules, but the client calls the backend's address: the listener mechanism alone
#   hooknocfg  hook loaded without any configuration: the mesh stays off
# for a tiny response and for a backend doing ~1 ms of work. Prints requests/s, p50/p99 and the client's CPU per
# request and working set, each as a ratio to direct, and the sidecar's CPU per request. Loopback only. Modes
# run interleaved for ROUNDS rounds (default 3) of SECONDS_PER_MODE seconds (default 5) after a warm-up, and the
# median of the rounds is reported: on 2 cores client, backend and sidecar share the CPU and single runs vary by
# ±15%. Everything started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_PER_MODE:-5}
rounds=${ROUNDS:-3}
concurrency=${CONCURRENCY:-8}
# Subsets for quick experiments, e.g. MODES="direct hook" WORK_MS="0"; the published tables use the defaults.
modes=${MODES:-direct hook factory addmesh nginx yarp}
work_variants=${WORK_MS:-0 1}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

if ! command -v nginx >/dev/null 2>&1; then
  echo "e2e: installing nginx (Debian package) for the sidecar comparison"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
  (systemctl stop nginx 2>/dev/null || service nginx stop 2>/dev/null || true)
fi

dotnet build benchmarks/Mesh.LoadTest -c Release -nologo -v q >/dev/null
dotnet publish listeners/Mesh.StartupHook -c Release -o "$work/hook" -nologo -v q >/dev/null
app="dotnet benchmarks/Mesh.LoadTest/bin/Release/net10.0/Mesh.LoadTest.dll"

start_part() { # name, args...; waits for the port file and prints the address
  local name=$1; shift
  $app "$@" --port-file "$work/$name.port" >/dev/null 2>&1 &
  pids+=($!)
  echo $! > "$work/$name.pid"
  for _ in $(seq 300); do [ -s "$work/$name.port" ] && break; sleep 0.1; done
  cat "$work/$name.port"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

run_variant() { # label, backend work ms
  local label=$1 work_ms=$2
  local backend; backend=$(start_part "backend-$work_ms" backend --work-ms "$work_ms")
  local backend_port=${backend##*:}
  printf '{ "services": { "backend": { "endpoints": [ { "id": "b1", "address": "%s" } ] } } }' "$backend" > "$work/mesh.json"

  local nginx_port; nginx_port=$(( 20000 + RANDOM % 20000 ))
  cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
  upstream backend { server 127.0.0.1:$backend_port; keepalive 64; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
NGINX
  nginx -c "$work/nginx.conf" -p "$work"
  sleep 0.3
  local nginx_worker; nginx_worker=$(pgrep -P "$(cat "$work/nginx.pid")" | head -1)
  local yarp; yarp=$(start_part "yarp-$work_ms" yarp --upstream "$backend")
  local yarp_pid; yarp_pid=$(cat "$work/yarp-$work_ms.pid")

  measure() { # mode, sidecar pid or "", env/args...
    local mode=$1 sidecar=$2; shift 2
    local before=0; [ -n "$sidecar" ] && before=$(cpu_ticks "$sidecar")
    local line; line=$(env "$@" --seconds "$seconds" --concurrency "$concurrency")
    local sidecar_us=0
    if [ -n "$sidecar" ]; then
      local after; after=$(cpu_ticks "$sidecar")
      local requests; requests=$(echo "$line" | sed 's/.*"requests":\([0-9]*\).*/\1/')
      # The sidecar also served the warm-up; count its CPU over the measured and warm-up requests alike.
      sidecar_us=$(awk "BEGIN { printf \"%.1f\", ($after - $before) * 1000000 / $hz / ($requests * 1.33) }")
    fi
    echo "$mode $line $sidecar_us"
  }

  for _ in $(seq "$rounds"); do
    for mode in $modes; do
      case $mode in
        direct) measure direct "" DOTNET_STARTUP_HOOKS= $app client --url "$backend/" ;;
        hook) measure hook "" DOTNET_STARTUP_HOOKS="$work/hook/Mesh.StartupHook.dll" MESH_CONFIG="$work/mesh.json" $app client --url "http://backend/" ;;
        hookpass) measure hookpass "" DOTNET_STARTUP_HOOKS="$work/hook/Mesh.StartupHook.dll" MESH_CONFIG="$work/mesh.json" $app client --url "$backend/" ;;
        hooknocfg) measure hooknocfg "" DOTNET_STARTUP_HOOKS="$work/hook/Mesh.StartupHook.dll" $app client --url "$backend/" ;;
        factory) measure factory "" DOTNET_STARTUP_HOOKS= $app client --url "$backend/" --factory ;;
        addmesh) measure addmesh "" DOTNET_STARTUP_HOOKS= MESH_CONFIG="$work/mesh.json" $app client --url "http://backend/" --addmesh ;;
        nginx) measure nginx "$nginx_worker" DOTNET_STARTUP_HOOKS= $app client --url "http://127.0.0.1:$nginx_port/" ;;
        yarp) measure yarp "$yarp_pid" DOTNET_STARTUP_HOOKS= $app client --url "$yarp/" ;;
      esac
    done
  done > "$work/raw-$work_ms.txt"

  # One line per mode with the median of each figure over the rounds (direct first: the ratios are to it).
  for mode in $modes; do
    local fields=""
    for name in rps p50_us p99_us cpu_us_per_request working_set_mb settled_working_set_mb; do
      local value; value=$(grep "^$mode " "$work/raw-$work_ms.txt" | grep -o "\"$name\":[-0-9.eE+]*" | sed 's/.*://' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
      fields="$fields\"$name\":$value,"
    done
    local side; side=$(grep "^$mode " "$work/raw-$work_ms.txt" | awk '{ print $3 }' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    # The machine's speed drifts between rounds more than the modes differ: each round's ratio to the direct run of
    # the same round, then their median, cancels the drift that medians of raw figures keep.
    local ratio; ratio=$(paste -d' ' <(grep "^direct " "$work/raw-$work_ms.txt" | grep -o '"rps":[-0-9.eE+]*' | sed 's/.*://') \
      <(grep "^$mode " "$work/raw-$work_ms.txt" | grep -o '"rps":[-0-9.eE+]*' | sed 's/.*://') \
      | awk '{ print $2 / $1 }' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    echo "$mode {${fields%,},\"round_ratio\":$ratio} $side"
  done > "$work/results-$work_ms.txt"

  kill "$(cat "$work/nginx.pid")"; rm -f "$work/nginx.pid"
  kill "$yarp_pid" "$(cat "$work/backend-$work_ms.pid")" 2>/dev/null || true

  echo
  echo "## $label (concurrency $concurrency, median of $rounds rounds of ${seconds}s per mode)"
  echo
  echo "| mode | requests/s | ratio | ratio per round | p50 µs | p99 µs | added p50 µs | added p99 µs | client CPU µs/req | added CPU µs/req | sidecar CPU µs/req | client WS MB | settled WS MB | added settled MB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk '
    function field(line, name,   re, m) { re = "\"" name "\":[-0-9.eE+]+"; if (match(line, re)) { m = substr(line, RSTART, RLENGTH); sub(/.*:/, "", m); return m + 0 } return 0 }
    {
      mode[NR] = $1; line = $2; side[NR] = $3
      rps[NR] = field(line, "rps"); p50[NR] = field(line, "p50_us"); p99[NR] = field(line, "p99_us")
      cpu[NR] = field(line, "cpu_us_per_request"); ws[NR] = field(line, "working_set_mb"); settled[NR] = field(line, "settled_working_set_mb")
      round_ratio[NR] = field(line, "round_ratio")
    }
    END {
      for (i = 1; i <= NR; i++) {
        total_cpu = cpu[i] + side[i]
        printf "| %s | %.0f | %.3f | %.3f | %.0f | %.0f | %+.0f | %+.0f | %.1f | %+.1f | %s | %.1f | %.1f | %+.1f |\n", mode[i], rps[i], rps[i] / rps[1], round_ratio[i], p50[i], p99[i], p50[i] - p50[1], p99[i] - p99[1], cpu[i], total_cpu - cpu[1], (side[i] > 0 ? side[i] : "-"), ws[i], settled[i], settled[i] - settled[1]
      }
    }' "$work/results-$work_ms.txt"
}

echo "# Mesh end-to-end comparison ($(nproc) cores, $(date -u +%Y-%m-%d))"
for work_ms in $work_variants; do
  if [ "$work_ms" = 0 ]; then run_variant "tiny responses" 0; else run_variant "backend doing ~$work_ms ms of work" "$work_ms"; fi
done
echo
echo "ratio = median requests/s over median direct; ratio per round = median over rounds of each round's ratio to that"
echo "round's direct run. added CPU = client CPU + sidecar CPU - direct client CPU, per request. settled WS = the client's working set after"
echo "the load, once a full GC has run (the sidecars' own memory is not in it)."
