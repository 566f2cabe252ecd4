#!/usr/bin/env bash
# End-to-end load comparison on loopback, all in one run: the same client app calling a backend
#   direct   plain HttpClient -> backend
#   hook     plain HttpClient to http://backend/ under DOTNET_STARTUP_HOOKS (Mesh routes it)
#   factory  IHttpClientFactory client of a host without the mesh: the baseline of addmesh
#   addmesh  IHttpClientFactory client of a host with AddMesh().AddResilience()
#   nginx    plain HttpClient -> nginx (1 worker, keep-alive upstream) -> backend   (a sidecar)
#   yarp     plain HttpClient -> YARP proxy -> backend                             (a sidecar)
# and, on request (MODES), a calibration and two diagnostics of the hook's own cost:
#   control    a second direct client: how far two identical clients differ in this run (the noise floor)
# After the alternating rounds comes a head-to-head table: each mode in the same windows as the direct client
# (H2H_ROUNDS, default ROUNDS; 0 skips it). Both then meet the same machine at every moment, which cancels drift
# that alternating windows still see.
#   hookpass   hook attached with rules, but the client calls the backend's address: the listener mechanism alone
#   hooknocfg  hook loaded without any configuration: the mesh stays off
# for a tiny response and for a backend doing ~1 ms of work. Prints requests/s, p50/p99 and the client's CPU per
# request and working set, each as a ratio to direct, and the sidecar's CPU per request. Loopback only.
# Each mode has CLIENTS client processes (default 3) that live for the whole variant: each is warmed once
# (WARM_SECONDS, default 5), then the modes take turns in windows of SECONDS_PER_MODE seconds (default 2) for ROUNDS
# rounds (default 12), each round on the next process of every mode, the order of modes rotating each round; the
# median over the rounds is reported. On 2 cores client, backend and sidecar
# share the CPU and the machine's speed drifts by ±20% over minutes: short neighbouring windows of warm processes see
# the same machine, where whole runs one after another did not. Everything started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_PER_MODE:-2}
rounds=${ROUNDS:-12}
warm_seconds=${WARM_SECONDS:-5}
h2h_rounds=${H2H_ROUNDS:-$rounds}
clients=${CLIENTS:-3}
concurrency=${CONCURRENCY:-8}
# Subsets for quick experiments, e.g. MODES="direct hook" WORK_MS="0"; the published tables use the defaults.
modes=${MODES:-direct control hook factory addmesh nginx yarp}
work_variants=${WORK_MS:-0 1}
work=$(mktemp -d)
pids=()
declare -A to_client from_client
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

  start_client() { # name, env/args...: a client process that takes commands on a pipe (see Mesh.LoadTest)
    local name=$1; shift
    mkfifo "$work/$name.in" "$work/$name.out"
    env "$@" --concurrency "$concurrency" < "$work/$name.in" > "$work/$name.out" 2> "$work/$name.err" &
    pids+=($!)
    local w r
    exec {w}> "$work/$name.in"
    exec {r}< "$work/$name.out"
    to_client[$name]=$w
    from_client[$name]=$r
  }
  stop_client() { # name
    eval "exec ${to_client[$1]}>&- ${from_client[$1]}<&-"
    rm -f "$work/$1.in" "$work/$1.out"
  }
  send() { echo "$2" >&"${to_client[$1]}"; } # name, command
  ask() { # name, command (empty: only read): prints the client's one-line answer
    [ -z "$2" ] || send "$1" "$2"
    local reply
    if ! read -r -t 300 reply <&"${from_client[$1]}"; then
      echo "e2e: the $1 client did not answer '$2'" >&2; cat "$work/$1.err" >&2; exit 1
    fi
    echo "$reply"
  }
  sidecar_of() { case $1 in nginx) echo "$nginx_worker" ;; yarp) echo "$yarp_pid" ;; esac; }
  measure() { # mode, process: one window; prints the client's figures and the sidecar's CPU per request of it
    local mode=$1 sidecar; sidecar=$(sidecar_of "$mode")
    local before=0; [ -n "$sidecar" ] && before=$(cpu_ticks "$sidecar")
    local line; line=$(ask "$mode.$2" "run $seconds")
    local sidecar_us=0
    if [ -n "$sidecar" ]; then
      local after; after=$(cpu_ticks "$sidecar")
      local requests; requests=$(echo "$line" | sed 's/.*"requests":\([0-9]*\).*/\1/')
      sidecar_us=$(awk "BEGIN { printf \"%.1f\", ($after - $before) * 1000000 / $hz / $requests }")
    fi
    echo "$mode $line $sidecar_us"
  }

  # Identical processes differ by several per cent for their whole life (thread pool growth, PGO-driven JIT
  # choices), so each mode has CLIENTS processes and the rounds take them in turn.
  for mode in $modes; do
    for k in $(seq 0 $((clients - 1))); do
      case $mode in
        direct | control) start_client "$mode.$k" DOTNET_STARTUP_HOOKS= $app client --url "$backend/" ;;
        hook) start_client "$mode.$k" DOTNET_STARTUP_HOOKS="$work/hook/Mesh.StartupHook.dll" MESH_CONFIG="$work/mesh.json" $app client --url "http://backend/" ;;
        hookpass) start_client "$mode.$k" DOTNET_STARTUP_HOOKS="$work/hook/Mesh.StartupHook.dll" MESH_CONFIG="$work/mesh.json" $app client --url "$backend/" ;;
        hooknocfg) start_client "$mode.$k" DOTNET_STARTUP_HOOKS="$work/hook/Mesh.StartupHook.dll" $app client --url "$backend/" ;;
        factory) start_client "$mode.$k" DOTNET_STARTUP_HOOKS= $app client --url "$backend/" --factory ;;
        addmesh) start_client "$mode.$k" DOTNET_STARTUP_HOOKS= MESH_CONFIG="$work/mesh.json" $app client --url "http://backend/" --addmesh ;;
        nginx) start_client "$mode.$k" DOTNET_STARTUP_HOOKS= $app client --url "http://127.0.0.1:$nginx_port/" ;;
        yarp) start_client "$mode.$k" DOTNET_STARTUP_HOOKS= $app client --url "$yarp/" ;;
        *) echo "e2e: unknown mode $mode" >&2; exit 2 ;;
      esac
      ask "$mode.$k" "warm $warm_seconds" >/dev/null
    done
  done

  # The order rotates each round, so that no mode always follows the same one.
  local ordered=($modes)
  for round in $(seq 0 $((rounds - 1))); do
    for i in "${!ordered[@]}"; do
      measure "${ordered[$(( (i + round) % ${#ordered[@]} ))]}" $((round % clients))
    done
  done > "$work/raw-$work_ms.txt"

  # Head to head: each mode runs in the same windows as the direct client, so the two meet the same machine at every
  # moment. The machine is saturated, so the one that costs more per request completes fewer.
  for round in $(seq 0 $((h2h_rounds - 1))); do
    local k=$((round % clients))
    for mode in $modes; do
      [ "$mode" = direct ] && continue
      send "direct.$k" "run $seconds"; send "$mode.$k" "run $seconds"
      local with_direct alone; with_direct=$(ask "direct.$k" ""); alone=$(ask "$mode.$k" "")
      echo "$mode $(echo "$with_direct" | grep -o '"rps":[-0-9.eE+]*' | sed 's/.*://') $(echo "$alone" | grep -o '"rps":[-0-9.eE+]*' | sed 's/.*://') $(echo "$with_direct" | grep -o '"cpu_us_per_request":[-0-9.eE+]*' | sed 's/.*://') $(echo "$alone" | grep -o '"cpu_us_per_request":[-0-9.eE+]*' | sed 's/.*://')"
    done
  done > "$work/h2h-$work_ms.txt"

  for mode in $modes; do
    for k in $(seq 0 $((clients - 1))); do
      echo "$mode $(ask "$mode.$k" settle)"
      stop_client "$mode.$k"
    done
  done > "$work/settled-$work_ms.txt"

  # One line per mode with the median of each figure over the rounds (direct first: the ratios are to it).
  for mode in $modes; do
    local fields=""
    for name in rps p50_us p99_us cpu_us_per_request working_set_mb; do
      local value; value=$(grep "^$mode " "$work/raw-$work_ms.txt" | grep -o "\"$name\":[-0-9.eE+]*" | sed 's/.*://' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
      fields="$fields\"$name\":$value,"
    done
    fields="$fields\"settled_working_set_mb\":$(grep "^$mode " "$work/settled-$work_ms.txt" | grep -o '"settled_working_set_mb":[-0-9.eE+]*' | sed 's/.*://' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'),"
    local side; side=$(grep "^$mode " "$work/raw-$work_ms.txt" | awk '{ print $3 }' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    # The machine's speed drifts between rounds more than the modes differ: each round's ratio to the direct run of
    # the same round, then their median, cancels the drift that medians of raw figures keep.
    # Line i of each mode is round i.
    local ratios; ratios=$(paste -d' ' <(grep "^direct " "$work/raw-$work_ms.txt" | grep -o '"rps":[-0-9.eE+]*' | sed 's/.*://') \
      <(grep "^$mode " "$work/raw-$work_ms.txt" | grep -o '"rps":[-0-9.eE+]*' | sed 's/.*://') \
      | awk '{ printf "%.3f\n", $2 / $1 }' | sort -g)
    local ratio; ratio=$(echo "$ratios" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    echo "$mode $(echo $ratios)" >> "$work/spread-$work_ms.txt"
    echo "$mode {${fields%,},\"round_ratio\":$ratio} $side"
  done > "$work/results-$work_ms.txt"

  kill "$(cat "$work/nginx.pid")"; rm -f "$work/nginx.pid"
  kill "$yarp_pid" "$(cat "$work/backend-$work_ms.pid")" 2>/dev/null || true

  echo
  echo "## $label (concurrency $concurrency, median of $rounds rounds of ${seconds}s per mode, each client warmed ${warm_seconds}s)"
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
  echo
  echo "Each round's requests/s as a ratio to that round's direct window, sorted (the spread behind the median):"
  echo
  grep -v '^direct ' "$work/spread-$work_ms.txt" | sed 's/^\([^ ]*\) /- \1: /'
  [ -s "$work/h2h-$work_ms.txt" ] || return 0
  echo
  echo "### head to head: each mode in the same ${seconds}s windows as the direct client ($h2h_rounds rounds)"
  echo
  echo "| mode | requests/s ratio to direct, median | spread (min–max) | client CPU µs/req | direct's CPU µs/req, same windows |"
  echo "|---|---:|---:|---:|---:|"
  for mode in $modes; do
    [ "$mode" = direct ] && continue
    grep "^$mode " "$work/h2h-$work_ms.txt" | awk '
      function median(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } return a[int((n + 1) / 2)] }
      { n++; r[n] = $3 / $2; c[n] = $5; d[n] = $4 }
      END { m = median(r, n); printf "| %s | %.3f | %.3f–%.3f | %.1f | %.1f |\n", $1, m, r[1], r[n], median(c, n), median(d, n) }'
  done
}

echo "# Mesh end-to-end comparison ($(nproc) cores, $(date -u +%Y-%m-%d))"
for work_ms in $work_variants; do
  if [ "$work_ms" = 0 ]; then run_variant "tiny responses" 0; else run_variant "backend doing ~$work_ms ms of work" "$work_ms"; fi
done
echo
echo "ratio = median requests/s over median direct; ratio per round = median over rounds of each round's ratio to that"
echo "round's direct run. added CPU = client CPU + sidecar CPU - direct client CPU, per request. settled WS = the client's working set after"
echo "the load, once an aggressive full GC has returned the free heap (the sidecars' own memory is not in it)."
