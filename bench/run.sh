#!/usr/bin/env bash
# bench/run.sh BIN — lienthong against nginx, in one run, with the same wrk settings.
#
# Starts `BIN serve` on a copy of the example config (own data dir in a temp dir, free port,
# threads 0) and nginx serving static files of the same body sizes (free port, loopback only),
# then measures with wrk: nginx (healthz size), lienthong /healthz, nginx (record size),
# lienthong authenticated read of one record by key. Then times a 100,000-record push and the
# same push again (all unchanged). Writes the figures and ratios to docs/benchmarks.md
# (replacing its "Latest run" section). Everything started here is stopped on exit; lienthong
# with SIGTERM.
#
# Settings (environment): BENCH_THREADS=2 BENCH_CONNS=64 BENCH_DURATION=10s BENCH_WARMUP=2s
#   BENCH_RECORDS=100000 BENCH_SERVICE=cts-chi-tieu-kte-xh BENCH_EXAMPLE=examples/lang-son
#   BENCH_OUT=docs/benchmarks.md (BENCH_OUT=- prints the section instead) BENCH_KEEP=1 keeps
#   the temp dir.
set -euo pipefail

usage() { echo "usage: $0 path/to/lienthong" >&2; exit 2; }
[ $# -eq 1 ] || usage
[ -x "$1" ] || { echo "bench: $1 is not an executable (run make build first)" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)

threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNS:-64}
duration=${BENCH_DURATION:-10s}
warmup=${BENCH_WARMUP:-2s}
nrecords=${BENCH_RECORDS:-100000}
service=${BENCH_SERVICE:-cts-chi-tieu-kte-xh}
example=${BENCH_EXAMPLE:-$root/examples/lang-son}
case "$example" in /*) ;; *) example=$root/$example ;; esac
out=${BENCH_OUT:-$root/docs/benchmarks.md}
org=000.00.12.H32

for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/deps.sh bench)" >&2; exit 1; }
done
example_cfg=$example/lienthong.json
[ -f "$example_cfg" ] || { echo "bench: no $example_cfg" >&2; exit 1; }

work=$("$py" -c 'import tempfile; print(tempfile.mkdtemp(prefix="lienthong-bench."))')
chmod 755 "$work"
server_pid=
nginx_pid=

log() { printf 'bench: %s\n' "$*" >&2; }

stop_server() { # SIGTERM, then wait for a graceful exit; records the exit status
  [ -n "$server_pid" ] || return 0
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$server_pid" 2>/dev/null; then
      log "lienthong did not stop within 10 s of SIGTERM; sending SIGKILL"
      echo "no exit within 10 s of SIGTERM (killed)" >"$work/server.exit"
      kill -KILL "$server_pid" 2>/dev/null || true
    fi
  fi
  local rc=0
  wait "$server_pid" 2>/dev/null || rc=$?
  [ -s "$work/server.exit" ] || echo "$rc" >"$work/server.exit"
  server_pid=
}

stop_nginx() {
  [ -n "$nginx_pid" ] || return 0
  kill -TERM "$nginx_pid" 2>/dev/null || true
  wait "$nginx_pid" 2>/dev/null || true
  nginx_pid=
}

cleanup() {
  local rc=$?
  stop_server
  stop_nginx
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
    log "work dir kept: $work"
    [ $rc -eq 0 ] || { log "last lines of the server log:"; tail -n 20 "$work/server.log" >&2 2>/dev/null || true; }
  else
    rm -rf "$work"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() { # URL SECONDS [PID]: until URL answers 200
  local url=$1 secs=$2 pid=${3:-}
  for _ in $(seq 1 $((secs * 10))); do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

# --- config: a copy of the example's, own data dir, free port, threads 0 -----------------------
lt_port=$(free_port)
cfg=$work/lienthong.json
"$py" - "$example_cfg" "$cfg" "$work/data" "127.0.0.1:$lt_port" "$nrecords" <<'PY'
import json, os, sys
src, dst, data_dir, listen, nrec = sys.argv[1:6]
base = os.path.dirname(os.path.abspath(src))
cfg = json.load(open(src, encoding="utf-8"))

def absolutize(node):
    # Paths in the config are relative to the config file; this copy lives elsewhere.
    if isinstance(node, dict):
        for k, v in node.items():
            pathish = k == "dir" or k.endswith("_dir") or k.endswith("_file") or k.endswith("path")
            if isinstance(v, str) and pathish and v and not os.path.isabs(v):
                node[k] = os.path.normpath(os.path.join(base, v))
            else:
                absolutize(v)
    elif isinstance(node, list):
        for v in node:
            absolutize(v)

absolutize(cfg)
cfg["listen"] = listen
cfg["data_dir"] = data_dir
cfg["threads"] = 0
limits = cfg.setdefault("limits", {})
if limits.get("max_records_per_request", int(nrec)) < int(nrec):
    print("bench: raising limits.max_records_per_request to %s for the push" % nrec, file=sys.stderr)
    limits["max_records_per_request"] = int(nrec)
json.dump(cfg, open(dst, "w", encoding="utf-8"), ensure_ascii=False, indent=2)
PY

# --- the identity service: its agency and contract -----------------------------------------
read -r provider contract < <("$py" - "$example" "$service" <<'PY'
import glob, json, os, sys
boot, sid = sys.argv[1:3]
for p in sorted(glob.glob(os.path.join(boot, "services", "*.json"))):
    doc = json.load(open(p, encoding="utf-8"))
    for s in doc if isinstance(doc, list) else doc.get("items", [doc]) if isinstance(doc, dict) else []:
        if isinstance(s, dict) and s.get("id") == sid:
            print(s.get("agency", "-"), s.get("contract", "-"))
            sys.exit(0)
print("- -")
PY
)
[ "$provider" != - ] || log "service $service not found under $example/services (going on)"

# --- inputs of the mapping benchmark, written now so their writeback is over when it runs ---
mapdir=$work/map
"$py" "$here/gen_payloads.py" "$mapdir" "${BENCH_MAP_MB:-50}"

# --- lienthong -------------------------------------------------------------------------------
unset LIENTHONG_LISTEN
lt=http://127.0.0.1:$lt_port
"$bin" check-config --config "$cfg" >"$work/check-config.txt" 2>&1 || {
  log "check-config failed:"; cat "$work/check-config.txt" >&2; exit 1; }
"$bin" serve --config "$cfg" >"$work/server.log" 2>&1 &
server_pid=$!
wait_http "$lt/healthz" 30 "$server_pid" || { log "lienthong did not answer /healthz within 30 s"; exit 1; }
log "lienthong $bin on $lt (pid $server_pid)"

token=$("$bin" token --config "$cfg" --sub bench --org "$org" --roles admin --ttl 3600)
export LT_BENCH_TOKEN=$token
auth=(-H "Authorization: Bearer $token")

gen_args=(--bootstrap "$example" --service "$service")
[ "$provider" = - ] || gen_args+=(--provider "$provider")
[ "$contract" = - ] || gen_args+=(--contract "$contract")
gen() { "$py" "$here/gen_records.py" "${gen_args[@]}" "$@"; }
envelope=application/vnd.lienthong.exchange+json

push() { # FILE RESULT_JSON → prints "http_code time_total"
  curl -sS -o "$2" -w '%{http_code} %{time_total}\n' "${auth[@]}" -H "Content-Type: $envelope" \
    --data-binary @"$1" "$lt/v1/services/$service/records"
}

# Seed one record and learn the size of its body when read back by key.
gen --one --out "$work/one.json" 2>"$work/one.key"
key=$(sed -n 's/.*first key \([^ ]*\)$/\1/p' "$work/one.key")
read -r code _ < <(push "$work/one.json" "$work/seed.out")
[ "$code" = 200 ] || { log "seeding one record: HTTP $code: $(head -c 600 "$work/seed.out")"; exit 1; }
record_url=$lt/v1/services/$service/records/$key
code=$(curl -sS -o "$work/record.body" -w '%{http_code}' "${auth[@]}" "$record_url")
[ "$code" = 200 ] || { log "GET $record_url: HTTP $code: $(head -c 600 "$work/record.body")"; exit 1; }
curl -sS -o "$work/healthz.body" "$lt/healthz"
record_size=$(stat -c %s "$work/record.body")
healthz_size=$(stat -c %s "$work/healthz.body")
log "record $key: $record_size bytes; /healthz: $healthz_size bytes"

# --- nginx with static files of the same sizes ---------------------------------------------
ngx_port=$(free_port)
mkdir -p "$work/www" "$work/tmp"
cp "$work/healthz.body" "$work/www/healthz.json"
cp "$work/record.body" "$work/www/record.json"
chmod -R a+rX "$work/www"
user_line=
[ "$(id -u)" = 0 ] && user_line="user $(id -un) $(id -gn);"
sed -e "s|@PREFIX@|$work|g" -e "s|@PORT@|$ngx_port|g" -e "s|@USER@|$user_line|" \
  "$here/nginx.conf.in" >"$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work/" >"$work/nginx.out" 2>&1 &
nginx_pid=$!
ngx=http://127.0.0.1:$ngx_port
wait_http "$ngx/healthz.json" 10 "$nginx_pid" || {
  log "nginx did not start:"; cat "$work/nginx.out" "$work/nginx-error.log" >&2 2>/dev/null; exit 1; }
for f in healthz record; do
  got=$(curl -s -o /dev/null -w '%{size_download}' "$ngx/$f.json")
  want=$(stat -c %s "$work/www/$f.json")
  [ "$got" = "$want" ] || { log "nginx serves $got bytes for $f.json, expected $want"; exit 1; }
done
log "nginx $(nginx -v 2>&1 | sed 's/.*\///') on $ngx (pid $nginx_pid)"

# --- wrk: one run, the same settings for every target --------------------------------------
run_wrk() { # NAME URL [LUA]
  local name=$1 url=$2 lua=${3:-}
  local args=(-t"$threads" -c"$conns" --timeout 5s)
  [ -n "$lua" ] && args+=(-s "$lua")
  log "wrk $name: $url"
  wrk "${args[@]}" -d"$warmup" "$url" >/dev/null
  wrk "${args[@]}" -d"$duration" --latency "$url" >"$work/wrk-$name.txt"
  grep -E 'Requests/sec|Non-2xx|Socket errors' "$work/wrk-$name.txt" | sed 's/^ */    /' >&2
  kill -0 "$server_pid" 2>/dev/null || { log "lienthong exited during the $name run"; exit 1; }
}
echo "-t$threads -c$conns -d$duration --latency (warm-up $warmup first, same settings)" >"$work/wrk.settings"
cut -d' ' -f1-3 /proc/loadavg >"$work/load.before"
run_wrk nginx-healthz "$ngx/healthz.json"
run_wrk lt-healthz "$lt/healthz"
run_wrk nginx-record "$ngx/record.json" "$here/auth.lua"
run_wrk lt-record "$record_url" "$here/auth.lua"
# The same read by a consumer under a grant (issue 3): a registered system of another
# department, a live grant on all fields but `reporter` (the projection and the
# restricted_fields list are applied on every answer), no daily quota.
consumer_org=000.00.15.H32
[ "$consumer_org" = "$provider" ] && consumer_org=000.00.12.H32
curl -sS -o /dev/null "${auth[@]}" -H 'Content-Type: application/json' \
  -d "{\"id\":\"bench-consumer\",\"agency\":\"$consumer_org\",\"name\":\"bench consumer\"}" \
  "$lt/v1/systems"
valid_until=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
code=$(curl -sS -o "$work/grant.out" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
  -d "{\"org\":\"$consumer_org\",\"system\":\"bench-consumer\",\"service\":\"$service\",\"fields\":[\"indicator\",\"area\",\"period\",\"value\",\"status\",\"unit\"],\"valid_until\":\"$valid_until\",\"quota_per_day\":0}" \
  "$lt/v1/grants")
[ "$code" = 201 ] || { log "creating the bench grant: HTTP $code: $(head -c 400 "$work/grant.out")"; exit 1; }
LT_BENCH_CONSUMER_TOKEN=$("$bin" token --config "$cfg" --sub bench-consumer --org "$consumer_org" --roles agency --ttl 3600)
export LT_BENCH_CONSUMER_TOKEN
code=$(curl -sS -o "$work/record.consumer" -w '%{http_code}' \
  -H "Authorization: Bearer $LT_BENCH_CONSUMER_TOKEN" "$record_url")
grep -q '"restricted_fields":\["reporter"\]' "$work/record.consumer" ||
  { log "consumer read: HTTP $code: $(head -c 400 "$work/record.consumer")"; exit 1; }
run_wrk lt-record-grant "$record_url" "$here/auth_consumer.lua"
# The relay (issue 4): a live call to a provider (nginx serving the department's JSON), mapped
# to the contract and answered in the envelope, next to nginx proxy_pass to the same upstream.
mkdir -p "$work/www/upstream"
"$py" - "$example/data/stc-thu-ngan-sach-2026-10.json" "$work/www/upstream/thu.json" <<'PYUP'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
doc["data"] = doc["data"][:1]  # one live value, as a dashboard asks for it
json.dump(doc, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PYUP
chmod -R a+rX "$work/www"
"$py" - "$example/services/stc-thu-ngan-sach.json" "$work/relay-service.json" "$ngx/upstream/thu.json" <<'PYSVC'
import json, sys
svc = json.load(open(sys.argv[1], encoding="utf-8"))
svc["id"] = "bench-relay"
svc.pop("status", None)
svc["source"] = {"mode": "pull", "format": "json", "url": sys.argv[3], "timeout_ms": 5000}
json.dump(svc, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PYSVC
for step in "/v1/services" "/v1/services/bench-relay/status"; do
  body=@"$work/relay-service.json"
  [ "$step" = /v1/services ] || body='{"status":"published","reason":"bench"}'
  code=$(curl -sS -o "$work/relay-setup.out" -w '%{http_code}' "${auth[@]}" \
    -H 'Content-Type: application/json' --data-binary "$body" "$lt$step")
  case "$code" in 200|201) ;; *) log "relay set-up $step: HTTP $code: $(head -c 300 "$work/relay-setup.out")"; exit 1 ;; esac
done
relay_url=$lt/v1/services/bench-relay/call
code=$(curl -sS -o "$work/relay.body" -w '%{http_code}' "${auth[@]}" "$relay_url")
[ "$code" = 200 ] || { log "relay: HTTP $code: $(head -c 400 "$work/relay.body")"; exit 1; }
run_wrk nginx-proxy "$ngx/proxy/thu.json" "$here/auth.lua"
run_wrk lt-relay "$relay_url" "$here/auth.lua"
# Observations (issue 5): one indicator x the 34 provinces x 60 months, read as the IOC
# draws a chart, next to nginx serving the same answer as a static file.
"$py" - "$example" "$work/obs-push.json" "$provider" "$service" <<'PYOBS'
import json, sys, time
boot, out, provider, service = sys.argv[1:5]
areas = json.load(open(boot + "/codelists/areas.json", encoding="utf-8"))["codes"]
provinces = [a["code"] for a in areas if not a.get("parent")]
recs = [{"indicator": "IIP", "area": a, "period": "%d-M%02d" % (y, m),
         "value": round(100 + (hash((a, y, m)) % 2000) / 100.0, 2), "status": "ok", "unit": "%"}
        for a in provinces for y in range(2022, 2027) for m in range(1, 13)]
env = {"header": {"message_id": "bench-obs-%d" % time.time_ns(), "service": service,
                  "provider": provider, "contract": "indicator-observation@1",
                  "produced_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
       "records": recs}
json.dump(env, open(out, "w", encoding="utf-8"), ensure_ascii=False)
print("bench: %d observations (%d provinces x 60 months)" % (len(recs), len(provinces)), file=sys.stderr)
PYOBS
read -r code _ < <(push "$work/obs-push.json" "$work/obs-push.out")
[ "$code" = 200 ] || { log "observations push: HTTP $code: $(head -c 400 "$work/obs-push.out")"; exit 1; }
obs_url="$lt/v1/observations?indicator=IIP&limit=10000"
code=$(curl -sS -o "$work/obs.body" -w '%{http_code}' "${auth[@]}" "$obs_url")
nobs=$("$py" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$work/obs.body" 2>/dev/null || echo 0)
[ "$code" = 200 ] && [ "$nobs" -ge 2000 ] || { log "observations: HTTP $code, $nobs items: $(head -c 300 "$work/obs.body")"; exit 1; }
cp "$work/obs.body" "$work/www/observations.json"
chmod a+r "$work/www/observations.json"
echo "$nobs" >"$work/obs.count"
run_wrk nginx-obs "$ngx/observations.json" "$here/auth.lua"
run_wrk lt-obs "$obs_url" "$here/auth.lua"           # a dashboard refresh: the answer cache
run_wrk lt-obs-cold "$obs_url" "$here/obs_cold.lua"  # a new query every time: built each time
# Every read appends an audit entry through one writer thread: how far behind is it now?
audit_count() { curl -s "${auth[@]}" "$lt/metrics" | awk '/^lienthong_audit_entries /{print $2; exit}'; }
a0=$(audit_count); t0=$(date +%s.%N); a1=$a0; drained=no
rss_after_reads=$(awk '/^VmRSS/ {print $2 " " $3}' "/proc/$server_pid/status" 2>/dev/null || echo "?")
if [ -n "$a0" ]; then
  for _ in $(seq 1 120); do
    sleep 0.5
    a=$(audit_count)
    [ "$a" = "$a1" ] && { drained=yes; break; }
    a1=$a
  done
fi
t1=$(date +%s.%N)
echo "${a0:-?} ${a1:-?} $drained $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') $rss_after_reads" >"$work/audit.state"
code=$(curl -sS -o "$work/record.after" -w '%{http_code}' "${auth[@]}" "$record_url")
# The envelope header (message_id, produced_at) is new on every answer; the size is not.
{ [ "$code" = 200 ] && [ "$(stat -c %s "$work/record.after")" = "$record_size" ]; } ||
  log "after the read run the record answers HTTP $code, $(stat -c %s "$work/record.after") bytes"

# --- the push: N distinct records, then the same N again (all unchanged) -------------------
gen --count "$nrecords" --out "$work/push1.json" 2>/dev/null
gen --count "$nrecords" --out "$work/push2.json" 2>/dev/null # same records, new message id
log "push of $nrecords records ($(stat -c %s "$work/push1.json") bytes)"
read -r push1_code push1_time < <(push "$work/push1.json" "$work/push1.out")
log "  HTTP $push1_code in ${push1_time}s: $(head -c 200 "$work/push1.out")"
read -r push2_code push2_time < <(push "$work/push2.json" "$work/push2.out")
log "  again: HTTP $push2_code in ${push2_time}s: $(head -c 200 "$work/push2.out")"
printf '%s %s\n%s %s\n' "$push1_code" "$push1_time" "$push2_code" "$push2_time" >"$work/push.times"
# the server's own phase timings (decode = parse + map + validate, store = the LMDB commit)
grep ' ingest ' "$work/server.log" | tail -n 2 | sed 's/^/bench:   server: /' >&2 || true
stat -c %s "$work/push1.json" >"$work/push.size"

# --- SDMX-JSON (issue 5): every observation in the warehouse (the push above: ~100,000) ------
sdmx_url="$lt/sdmx/data/LIENTHONG,SOCIO_ECON,1.0/all"
sdmx_accept='Accept: application/vnd.sdmx.data+json;version=2.0.0'
: >"$work/sdmx.times"
for _ in 1 2 3 4 5; do
  curl -sS -o "$work/sdmx.json" -w '%{http_code} %{time_total} %{size_download}\n' "${auth[@]}" \
    -H "$sdmx_accept" "$sdmx_url" >>"$work/sdmx.times"
done
"$py" - "$work/sdmx.json" >"$work/sdmx.count" <<'PYSDMX' || echo 0 >"$work/sdmx.count"
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
print(sum(len(s.get("observations", {})) for ds in doc["data"]["dataSets"]
          for s in ds.get("series", {}).values()))
PYSDMX
log "SDMX-JSON: $(cat "$work/sdmx.count") observations; HTTP, seconds, bytes per call: $(tr '\n' ';' <"$work/sdmx.times")"

# --- stop lienthong (SIGTERM), then report ---------------------------------------------------
cut -d' ' -f1-3 /proc/loadavg >"$work/load.after"
alive_at_end=yes
kill -0 "$server_pid" 2>/dev/null || alive_at_end=no
rss=$(awk '/^VmHWM/ {print $2 " " $3}' "/proc/$server_pid/status" 2>/dev/null || echo "?")
echo "$alive_at_end $rss" >"$work/server.state"
stop_server
stop_nginx
log "lienthong exit status after SIGTERM: $(cat "$work/server.exit")"

# --- mapping throughput of the adapters (issue 4): 50 MB SOAP and CSV, decode + map + validate,
# on a quiet machine: both servers are stopped by now
contract_file=$example/contracts/indicator-observation.json
for f in soap csv; do
  payload=$mapdir/soap.xml
  [ "$f" = csv ] && payload=$mapdir/data.csv
  "$(dirname "$bin")/lt_map_bench" "$f" "$mapdir/mapping-$f.json" "$contract_file" "$payload" \
    >"$work/map-$f.txt" 2>&1 || log "map_bench $f failed: $(cat "$work/map-$f.txt")"
  log "mapping $f ($(stat -c %s "$payload") bytes): $(cat "$work/map-$f.txt")"
done


"$py" - "$work" "$out" "$nrecords" "$service" "$key" "$bin" <<'PY'
import datetime, json, os, platform, re, subprocess, sys
work, out, nrec, service, key, binpath = sys.argv[1:7]
nrec = int(nrec)

def read(name, default=""):
    try:
        return open(os.path.join(work, name), encoding="utf-8", errors="replace").read()
    except OSError:
        return default

def secs(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not m:
        return None
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(2)]

def wrk(name):
    t = read("wrk-%s.txt" % name)
    r = {"rps": None, "avg": None, "p50": None, "p99": None, "non2xx": 0, "errors": "", "requests": None}
    m = re.search(r"Requests/sec:\s+([\d.]+)", t)
    if m: r["rps"] = float(m.group(1))
    m = re.search(r"^\s+Latency\s+(\S+)", t, re.M)
    if m: r["avg"] = secs(m.group(1))
    m = re.search(r"^\s+50%\s+(\S+)", t, re.M)
    if m: r["p50"] = secs(m.group(1))
    m = re.search(r"^\s+99%\s+(\S+)", t, re.M)
    if m: r["p99"] = secs(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
    if m: r["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors:\s+(.*)", t)
    if m: r["errors"] = m.group(1).strip()
    m = re.search(r"(\d+) requests in", t)
    if m: r["requests"] = int(m.group(1))
    return r

def ms(v):
    if v is None: return "?"
    if v >= 1.0: return "%.2f s" % v
    return "%.2f ms" % (v * 1e3) if v >= 1e-3 else "%.0f µs" % (v * 1e6)

def num(v):
    return "?" if v is None else "{:,.0f}".format(v)

def verdict(value, goal, unit):
    if value is None: return "no (no figure)"
    if value >= goal: return "yes"
    return "no: %.0f %% short (%s of %s)" % ((1 - value / goal) * 100, unit(value), unit(goal))

cpu = "?"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip(); break
nproc = os.cpu_count()
mem = "?"
for line in open("/proc/meminfo"):
    if line.startswith("MemTotal"):
        mem = "%.1f GiB" % (int(line.split()[1]) / 1048576); break
ngx_ver = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]
wrk_ver = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0].replace("wrk", "").strip()
try:
    lt_ver = json.loads(read("healthz.body")).get("version", "?")
except ValueError:
    lt_ver = "?"
settings = read("wrk.settings").strip()
nh, lh, nr, lr = wrk("nginx-healthz"), wrk("lt-healthz"), wrk("nginx-record"), wrk("lt-record")
lg = wrk("lt-record-grant")
np_, lrel = wrk("nginx-proxy"), wrk("lt-relay")
nobs_w, lobs, lobsc = wrk("nginx-obs"), wrk("lt-obs"), wrk("lt-obs-cold")
obs_size = os.path.getsize(os.path.join(work, "obs.body")) if os.path.exists(os.path.join(work, "obs.body")) else 0
obs_count = read("obs.count", "?").strip()
sdmx_n = int((read("sdmx.count", "0").strip() or "0"))
sdmx_calls = [l.split() for l in read("sdmx.times").splitlines() if len(l.split()) == 3]
sdmx_ok = sorted(float(t) for c, t, _ in sdmx_calls if c == "200")
sdmx_best = sdmx_ok[0] if sdmx_ok else None
sdmx_med = sdmx_ok[len(sdmx_ok) // 2] if sdmx_ok else None
sdmx_rate = sdmx_n / sdmx_med if sdmx_med and sdmx_n else None
sdmx_bytes = int(sdmx_calls[-1][2]) if sdmx_calls else 0
hsize = os.path.getsize(os.path.join(work, "healthz.body"))
rsize = os.path.getsize(os.path.join(work, "record.body"))

def ratio(a, b):
    return None if not a["rps"] or not b["rps"] else a["rps"] / b["rps"]

rh, rr = ratio(lh, nh), ratio(lr, nr)
rg, rga = ratio(lg, nr), ratio(lg, lr)
rrel = ratio(lrel, np_)
robs, robsc = ratio(lobs, nobs_w), ratio(lobsc, nobs_w)
times = read("push.times").split("\n")
pushes = []
for i, line in enumerate(times[:2]):
    parts = line.split()
    code, t = (parts + ["?", "0"])[:2]
    t = float(t or 0)
    try:
        res = json.loads(read("push%d.out" % (i + 1)))
    except ValueError:
        res = {}
    rate = nrec / t if code == "200" and t > 0 else None
    pushes.append({"code": code, "time": t, "rate": rate, "res": res})
psize = int(read("push.size", "0").strip() or 0)
alive, *rss = read("server.state", "? ?").split()
exit_status = read("server.exit", "?").strip()
log = read("server.log")
log_lines = [l for l in log.splitlines() if l.strip()]
# Anything but the server's own info/debug lines (warnings, errors, library messages).
bad = [l for l in log_lines if not re.match(r"^\S+Z (info|debug) ", l)]

fx = lambda r: "%.2f×" % r
fr = lambda v: "{:,.0f} records/s".format(v)
rows = [
    ("nginx static, %d B (healthz size)" % hsize, nh, "1.00×" if nh["rps"] else "?", "reference", ""),
    ("lienthong `GET /healthz` (%d B)" % hsize, lh, fx(rh) if rh else "?", "≥ 0.9× nginx",
     verdict(rh, 0.9, fx)),
    ("nginx static, %d B (record size)" % rsize, nr, "1.00×" if nr["rps"] else "?", "reference", ""),
    ("lienthong record by key, admin JWT (%d B)" % rsize, lr,
     fx(rr) if rr else "?", "≥ 0.6× nginx", verdict(rr, 0.6, fx)),
    ("lienthong record by key, consumer under a grant (projection; %.2f× the admin read)"
     % (rga or 0), lg, fx(rg) if rg else "?", "≥ 0.9× the admin read",
     verdict(rga, 0.9, fx)),
    ("nginx `proxy_pass` to a local upstream (the department's JSON, one record)", np_,
     "1.00×" if np_["rps"] else "?", "reference", ""),
    ("lienthong relay `GET …/call`: same upstream, mapped, validated, enveloped", lrel,
     fx(rrel) if rrel else "?", "≥ 0.6× nginx proxy_pass", verdict(rrel, 0.6, fx)),
    ("nginx static, %s B (the observations answer)" % "{:,}".format(obs_size), nobs_w,
     "1.00×" if nobs_w["rps"] else "?", "reference", ""),
    ("lienthong `GET /v1/observations?indicator=IIP`: %s observations (34 provinces × 60 months)"
     % obs_count + " — repeated, as a dashboard refreshes (answer cache)", lobs,
     fx(robs) if robs else "?", "≥ 0.3× nginx", verdict(robs, 0.3, fx)),
    ("the same answer for a different query every time (built each time: engine + JSON)",
     lobsc, fx(robsc) if robsc else "?", "(≥ 0.3× nginx)", verdict(robsc, 0.3, fx)),
]
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
L = []
L.append("## Latest run")
L.append("")
L.append("- Date: %s" % now)
L.append("- Machine: %s CPU(s) (`nproc`), %s, %s RAM, Linux %s" % (nproc, cpu, mem, platform.release()))
L.append("- lienthong %s (`%s`, `threads: 0`), nginx %s (`worker_processes auto`, `access_log off`), wrk %s" %
         (lt_ver, os.path.relpath(binpath), ngx_ver, wrk_ver))
L.append("- Load average (1, 5, 15 min) before the run: %s; after: %s (other work on the machine skews single runs)" % (
    read("load.before").strip() or "?", read("load.after").strip() or "?"))
L.append("- wrk: `%s`; every target in the same run, loopback only; wrk, nginx and lienthong share the machine's CPUs" % settings)
L.append("")
L.append("| target | req/s | p50 / avg latency | ratio to nginx | goal | met? |")
L.append("|---|---:|---|---:|---|---|")
for name, r, rat, goal, met in rows:
    L.append("| %s | %s | %s / %s | %s | %s | %s |" % (name, num(r["rps"]), ms(r["p50"]), ms(r["avg"]), rat, goal, met))
labels = ["push %s records (new)" % "{:,}".format(nrec), "same push again (all unchanged)"]
for lab, p in zip(labels, pushes):
    res = p["res"]
    detail = "HTTP %s in %.2f s" % (p["code"], p["time"])
    L.append("| %s, one `curl --data-binary` of %.1f MB | %s | %s | – | ≥ 200,000 records/s | %s |" % (
        lab, psize / 1e6, fr(p["rate"]) if p["rate"] else "?", detail,
        verdict(p["rate"], 200000.0, fr)))
for f, label in (("soap", "SOAP 1.1 response"), ("csv", "`;` CSV export, decimal commas")):
    m = re.match(r"(\d+) records, (\d+) rejected, ([\d.]+) s, (\d+) records/s", read("map-%s.txt" % f))
    rate = float(m.group(4)) if m else None
    L.append("| mapping a %s MB %s (decode + map + validate, one thread, lt_map_bench) | %s | %s | – | ≥ 150,000 records/s | %s |" % (
        os.environ.get("BENCH_MAP_MB", "50"), label, fr(rate) if rate else "?",
        ("%s records in %s s" % ("{:,}".format(int(m.group(1))), m.group(3))) if m else "failed",
        verdict(rate, 150000.0, fr)))
fo = lambda v: "{:,.0f} observations/s".format(v)
L.append("| SDMX-JSON 2.0 answer, `GET /sdmx/data/LIENTHONG,SOCIO_ECON,1.0/all`: %s observations, %.1f MB (median of %d calls, whole HTTP call with curl) | %s | median %s, best %s | – | ≥ 1,000,000 observations/s | %s |" % (
    "{:,}".format(sdmx_n), sdmx_bytes / 1e6, len(sdmx_ok), fo(sdmx_rate) if sdmx_rate else "?",
    ms(sdmx_med), ms(sdmx_best), verdict(sdmx_rate, 1e6, fo)))
L.append("")
L.append("Record read: `GET /v1/services/%s/records/%s` with `Authorization: Bearer` (bench/auth.lua; "
         "nginx gets the same header). Checks during the run:" % (service, key))
for label, r in (("nginx (healthz size)", nh), ("lienthong /healthz", lh), ("nginx (record size)", nr),
                 ("lienthong record read", lr), ("lienthong record read under a grant", lg),
                 ("nginx proxy_pass", np_), ("lienthong relay", lrel),
                 ("nginx (observations size)", nobs_w), ("lienthong observations", lobs),
                 ("lienthong observations, a new query each time", lobsc)):
    errs = r["errors"] or "connect 0, read 0, write 0, timeout 0"
    L.append("- %s: %s requests, non-2xx: %d, socket errors: %s, p99 %s" % (
        label, "{:,}".format(r["requests"]) if r["requests"] else "?", r["non2xx"], errs, ms(r["p99"])))
for lab, p in zip(labels, pushes):
    res = p["res"]
    summary = ", ".join("%s %s" % (k, res[k]) for k in ("accepted", "unchanged", "rejected") if k in res)
    L.append("- %s: %s" % (lab, summary or "answer: %s" % read("push%d.out" % (labels.index(lab) + 1))[:200]))
audit = read("audit.state").split()
if len(audit) >= 4 and audit[0] != "?":
    a0, a1, drained, dt = int(audit[0]), int(audit[1]), audit[2], audit[3]
    rss_r = " ".join(audit[4:]) or "?"
    L.append("- Audit trail (one entry per read, one writer thread): when the record-read run ended "
             "%s entries were written and %s more were still queued in memory (RSS then %s); "
             "%s %s s later" % (
        "{:,}".format(a0), "{:,}".format(max(0, a1 - a0)), rss_r,
        "caught up" if drained == "yes" else "still writing", dt))
L.append("- lienthong after the run: %s; peak RSS %s; exit status after SIGTERM: %s; server log: %d lines, %d other than info" % (
    "running" if alive == "yes" else "NOT running", " ".join(rss) or "?", exit_status, len(log_lines), len(bad)))
for l in bad[:5]:
    L.append("  - `%s`" % l[:160].replace("`", "'"))
L.append("")
section = "\n".join(L) + "\n"

if out == "-":
    sys.stdout.write(section)
    sys.exit(0)
intro = """# Benchmarks

lienthong is measured against nginx serving a static file of the same body size, in the same
run, with the same load generator and settings (DESIGN.md, "Performance design"): absolute
numbers drift on shared machines, the ratio is the figure.

## How to run

`make bench` installs wrk and nginx (scripts/deps.sh bench), builds, and runs
`bench/run.sh build/lienthong`. The script starts lienthong on a copy of
examples/lang-son/lienthong.json (own data dir in a temp dir, a free port, `threads: 0`) and
nginx (bench/nginx.conf.in) on another free port, both on 127.0.0.1; seeds one record into the
identity service and reads it back to learn its size; runs wrk (warm-up, then the measured run)
against nginx and lienthong; waits for the audit trail to catch up with the reads; times a
100,000-record push (bench/gen_records.py) and the same push again; stops both (lienthong
with SIGTERM) and replaces the "Latest run" section below.
Settings: `BENCH_DURATION`, `BENCH_THREADS`, `BENCH_CONNS`, `BENCH_RECORDS` (see the script).

"""
try:
    doc = open(out, encoding="utf-8").read()
except OSError:
    doc = intro
m = re.search(r"^## Latest run\b.*?(?=^## |\Z)", doc, re.M | re.S)
if m:
    doc = doc[:m.start()] + section + ("\n" if doc[m.end():] else "") + doc[m.end():]
else:
    doc = doc.rstrip("\n") + "\n\n" + section
os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
open(out, "w", encoding="utf-8").write(re.sub(r"\n{3,}", "\n\n", doc))
print("bench: wrote %s" % out, file=sys.stderr)
sys.stdout.write(section)
PY
