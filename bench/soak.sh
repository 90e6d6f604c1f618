#!/usr/bin/env bash
# bench/soak.sh BIN — endurance run (issue 6): SOAK_DURATION seconds of mixed load on one server.
#
# Starts `BIN serve` on a copy of the example config (own data dir in a temp dir, free port,
# threads 0) and nginx as the relay's upstream (bench/nginx.conf.in, loopback only); seeds
# indicator observations, a consumer system with a grant, and a relay service; then runs, at the
# same time, one wrk process per operation (-t1, few connections each):
#   record-admin   GET /v1/services/S/records/KEY, operator token
#   record-grant   the same read by a consumer under a grant (projection)
#   observations   GET /v1/observations, four different queries in turn
#   sdmx-json      GET /sdmx/data/... with the SDMX-JSON 2.0 Accept, two queries in turn
#   sdmx-csv       the same queries with the SDMX-CSV 1.0 Accept
#   relay          GET /v1/services/soak-relay/call (nginx serves the upstream file)
#   ingest         POST /v1/services/S/records, small exchange envelopes; every push writes
# The server's resident memory (VmRSS, and its anonymous part RssAnon) is sampled every
# SOAK_SAMPLE seconds. Afterwards: audit entries written during the run (lienthong_audit_entries
# from /metrics, once the audit writer has caught up) against the requests sent, the chain
# checked (GET /v1/audit/verify), lienthong stopped with SIGTERM (exit status checked), and the
# "## Soak" section of docs/benchmarks.md rewritten (the rest of the file is left as it is).
# Only audited routes are loaded (/v1 and /sdmx), never /healthz or /metrics.
#
# Settings (environment): SOAK_DURATION=600 (seconds) SOAK_CONNS=4 (connections per read run)
#   SOAK_INGEST_CONNS=2 SOAK_INGEST_RECORDS=4 (observations per push) SOAK_WARMUP=30 (the
#   "start" memory sample; at most a quarter of the run) SOAK_SAMPLE=10 (seconds between memory
#   samples) SOAK_TIMEOUT=10s (wrk) SOAK_SERVICE=cts-chi-tieu-kte-xh
#   SOAK_EXAMPLE=examples/lang-son SOAK_OUT=docs/benchmarks.md (SOAK_OUT=- prints the section
#   instead) SOAK_KEEP=1 keeps the temp dir. The data dir grows by about 6 MB/s under this load
#   (mostly audit entries, about 4 GB in 600 s): set TMPDIR to a disk with room.
set -euo pipefail

usage() { echo "usage: $0 path/to/lienthong" >&2; exit 2; }
[ $# -eq 1 ] || usage
[ -x "$1" ] || { echo "soak: $1 is not an executable (run make build first)" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)

duration=${SOAK_DURATION:-600}
conns=${SOAK_CONNS:-4}
ingest_conns=${SOAK_INGEST_CONNS:-2}
per_push=${SOAK_INGEST_RECORDS:-4}
warmup=${SOAK_WARMUP:-30}
sample_every=${SOAK_SAMPLE:-10}
wrk_timeout=${SOAK_TIMEOUT:-10s}
service=${SOAK_SERVICE:-cts-chi-tieu-kte-xh}
example=${SOAK_EXAMPLE:-$root/examples/lang-son}
case "$example" in /*) ;; *) example=$root/$example ;; esac
out=${SOAK_OUT:-$root/docs/benchmarks.md}
org=000.00.12.H32

for v in DURATION CONNS INGEST_CONNS INGEST_RECORDS WARMUP SAMPLE; do
  n=SOAK_$v
  case "${!n:-0}" in *[!0-9]*) echo "soak: $n must be a whole number, not '${!n}'" >&2; exit 2 ;; esac
done
[ "$duration" -ge 20 ] || { echo "soak: SOAK_DURATION must be at least 20 (seconds)" >&2; exit 2; }
for v in "$conns" "$ingest_conns" "$per_push" "$sample_every"; do
  [ "$v" -ge 1 ] ||
    { echo "soak: SOAK_CONNS, SOAK_INGEST_CONNS, SOAK_INGEST_RECORDS and SOAK_SAMPLE must be at least 1" >&2; exit 2; }
done
[ $((warmup * 4)) -le "$duration" ] || warmup=$((duration / 4))

for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "soak: $tool is missing (scripts/deps.sh bench)" >&2; exit 1; }
done
example_cfg=$example/lienthong.json
[ -f "$example_cfg" ] || { echo "soak: no $example_cfg" >&2; exit 1; }

work=$("$py" -c 'import tempfile; print(tempfile.mkdtemp(prefix="lienthong-soak."))')
chmod 755 "$work"
server_pid=
nginx_pid=
wrk_pids=()

log() { printf 'soak: %s\n' "$*" >&2; }

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

stop_wrk() { # the load generators still running (an interrupted run)
  local p
  for p in "${wrk_pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${wrk_pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  wrk_pids=()
}

cleanup() {
  local rc=$?
  stop_wrk
  stop_server
  stop_nginx
  if [ "${SOAK_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
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
"$py" - "$example_cfg" "$cfg" "$work/data" "127.0.0.1:$lt_port" <<'PY'
import json, os, sys
src, dst, data_dir, listen = sys.argv[1:5]
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
json.dump(cfg, open(dst, "w", encoding="utf-8"), ensure_ascii=False, indent=2)
PY

# --- the pushed service's agency and contract, the provinces, the relay's source ------------
read -r provider contract < <("$py" - "$example" "$service" <<'PY'
import glob, json, os, sys
boot, sid = sys.argv[1:3]
for p in sorted(glob.glob(os.path.join(boot, "services", "*.json"))):
    doc = json.load(open(p, encoding="utf-8"))
    for s in doc if isinstance(doc, list) else doc.get("items", [doc]) if isinstance(doc, dict) else []:
        if isinstance(s, dict) and s.get("id") == sid:
            c = s.get("contract", "-")
            print(s.get("agency", "-"), c if "@" in c else c + "@1")
            sys.exit(0)
print("- -")
PY
)
[ "$provider" != - ] || { log "service $service not found under $example/services"; exit 1; }
provinces=$("$py" -c '
import json, sys
codes = json.load(open(sys.argv[1], encoding="utf-8"))["codes"]
print(",".join(c["code"] for c in codes if not c.get("parent")))' "$example/codelists/areas.json")
[ -n "$provinces" ] || { log "no province in $example/codelists/areas.json"; exit 1; }
relay_src=$example/services/stc-thu-ngan-sach.json
relay_data=$example/data/stc-thu-ngan-sach-2026-10.json
for f in "$relay_src" "$relay_data"; do
  [ -f "$f" ] || { log "no $f (the relay service is modelled on it)"; exit 1; }
done

# --- lienthong -------------------------------------------------------------------------------
unset LIENTHONG_LISTEN
lt=http://127.0.0.1:$lt_port
"$bin" check-config --config "$cfg" >"$work/check-config.txt" 2>&1 || {
  log "check-config failed:"; cat "$work/check-config.txt" >&2; exit 1; }
"$bin" serve --config "$cfg" >"$work/server.log" 2>&1 &
server_pid=$!
wait_http "$lt/healthz" 30 "$server_pid" || { log "lienthong did not answer /healthz within 30 s"; exit 1; }
curl -sS -o "$work/healthz.body" "$lt/healthz"
log "lienthong $bin on $lt (pid $server_pid)"

ttl=$((duration + 3600))
LT_SOAK_TOKEN=$("$bin" token --config "$cfg" --sub soak --org "$org" --roles admin --ttl "$ttl")
export LT_SOAK_TOKEN
auth=(-H "Authorization: Bearer $LT_SOAK_TOKEN")
envelope=application/vnd.lienthong.exchange+json

expect() { # WANT FILE CODE WHAT: stops the run when an HTTP set-up step did not answer WANT
  case " $1 " in *" $3 "*) return 0 ;; esac
  log "$4: HTTP $3 (expected $1): $(head -c 400 "$2")"
  exit 1
}

# --- seed: IIP for the 34 provinces x 60 months, CPI x 24 months ------------------------------
"$py" - "$work/seed.json" "$provinces" "$provider" "$service" "$contract" <<'PY'
import json, sys, time
out, provinces, provider, service, contract = sys.argv[1:6]
provinces = provinces.split(",")
recs = []
for ind, years in (("IIP", range(2022, 2027)), ("CPI", range(2025, 2027))):
    for a in provinces:
        for y in years:
            for m in range(1, 13):
                v = 100 + ((int(a) * 31 + y * 12 + m) % 2000) / 100.0
                recs.append({"indicator": ind, "area": a, "period": "%d-M%02d" % (y, m),
                             "value": round(v, 2), "status": "ok", "unit": "%"})
env = {"header": {"message_id": "soak-seed-%d" % time.time_ns(), "service": service,
                  "provider": provider, "contract": contract,
                  "produced_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
       "records": recs}
json.dump(env, open(out, "w", encoding="utf-8"), ensure_ascii=False)
PY
code=$(curl -sS -o "$work/seed.out" -w '%{http_code}' "${auth[@]}" -H "Content-Type: $envelope" \
  --data-binary @"$work/seed.json" "$lt/v1/services/$service/records")
expect 200 "$work/seed.out" "$code" "seeding observations"
key="IIP~20~2026-M06"
record_path=/v1/services/$service/records/$key

# --- a consumer system of another department and its grant (no quota) ------------------------
consumer_org=000.00.15.H32
[ "$consumer_org" = "$provider" ] && consumer_org=000.00.12.H32
code=$(curl -sS -o "$work/system.out" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
  -d "{\"id\":\"soak-consumer\",\"agency\":\"$consumer_org\",\"name\":\"soak consumer\"}" "$lt/v1/systems")
expect "200 201" "$work/system.out" "$code" "registering the consumer system"
valid_until=$(date -u -d "+$((ttl / 3600 + 24)) hours" +%Y-%m-%dT%H:%M:%SZ)
code=$(curl -sS -o "$work/grant.out" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
  -d "{\"org\":\"$consumer_org\",\"system\":\"soak-consumer\",\"service\":\"$service\",\"fields\":[\"indicator\",\"area\",\"period\",\"value\",\"status\",\"unit\"],\"valid_until\":\"$valid_until\",\"quota_per_day\":0}" \
  "$lt/v1/grants")
expect 201 "$work/grant.out" "$code" "creating the consumer's grant"
LT_SOAK_CONSUMER_TOKEN=$("$bin" token --config "$cfg" --sub soak-consumer --org "$consumer_org" \
  --roles agency --ttl "$ttl")
export LT_SOAK_CONSUMER_TOKEN

# --- nginx: the relay's upstream (one value of the department's JSON) -------------------------
ngx_port=$(free_port)
mkdir -p "$work/www/upstream" "$work/tmp"
"$py" - "$relay_data" "$work/www/upstream/thu.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
doc["data"] = doc["data"][:1]  # one live value, as a dashboard asks for it
json.dump(doc, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PY
chmod -R a+rX "$work/www"
user_line=
[ "$(id -u)" = 0 ] && user_line="user $(id -un) $(id -gn);"
sed -e "s|@PREFIX@|$work|g" -e "s|@PORT@|$ngx_port|g" -e "s|@USER@|$user_line|" \
  "$here/nginx.conf.in" >"$work/nginx.conf"
nginx -c "$work/nginx.conf" -p "$work/" >"$work/nginx.out" 2>&1 &
nginx_pid=$!
ngx=http://127.0.0.1:$ngx_port
wait_http "$ngx/upstream/thu.json" 10 "$nginx_pid" || {
  log "nginx did not start:"; cat "$work/nginx.out" "$work/nginx-error.log" >&2 2>/dev/null; exit 1; }
log "nginx $(nginx -v 2>&1 | sed 's/.*\///') on $ngx (pid $nginx_pid)"

# --- the relay service: the department's source, pulled live from nginx -----------------------
"$py" - "$relay_src" "$work/relay-service.json" "$ngx/upstream/thu.json" <<'PY'
import json, sys
svc = json.load(open(sys.argv[1], encoding="utf-8"))
svc["id"] = "soak-relay"
svc.pop("status", None)
svc["source"] = {"mode": "pull", "format": "json", "url": sys.argv[3], "timeout_ms": 5000}
json.dump(svc, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PY
code=$(curl -sS -o "$work/relay-setup.out" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
  --data-binary @"$work/relay-service.json" "$lt/v1/services")
expect "200 201" "$work/relay-setup.out" "$code" "creating the relay service"
code=$(curl -sS -o "$work/relay-setup.out" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
  -d '{"status":"published","reason":"soak"}' "$lt/v1/services/soak-relay/status")
expect "200 201" "$work/relay-setup.out" "$code" "publishing the relay service"

# --- the operations: name, script, connections, token variable, Accept, paths ----------------
sdmx_flow=/sdmx/data/LIENTHONG,SOCIO_ECON,1.0
sdmx_json='application/vnd.sdmx.data+json;version=2.0.0'
sdmx_csv='application/vnd.sdmx.data+csv;version=1.0.0'
obs_paths="/v1/observations?indicator=IIP&area=20&from=2025-M01"
obs_paths+="|/v1/observations?indicator=IIP,CPI&area=20,12&latest=true"
obs_paths+="|/v1/observations?indicator=IIP&from=2026-M01&to=2026-M06"
obs_paths+="|/v1/observations?indicator=CPI&latest=true"
sdmx_paths="$sdmx_flow/IIP.20+12?startPeriod=2025-01"
sdmx_paths+="|$sdmx_flow/CPI.?lastNObservations=3"
ops=(record-admin record-grant observations sdmx-json sdmx-csv relay ingest)
declare -A op_label op_conns op_token op_accept op_paths
op_label=([record-admin]="record by key, operator token (\`GET …/records/$key\`)"
  [record-grant]="record by key, consumer under a grant (projection)"
  [observations]="\`GET /v1/observations\`, 4 queries in turn (new answer after every push)"
  [sdmx-json]="SDMX data, SDMX-JSON 2.0 (\`IIP.20+12\` from 2025, \`CPI.\` last 3)"
  [sdmx-csv]="SDMX data, SDMX-CSV 1.0 (the same queries)"
  [relay]="relay \`GET /v1/services/soak-relay/call\` (nginx upstream)"
  [ingest]="ingest \`POST …/records\`, envelopes of $per_push new observations")
for o in "${ops[@]}"; do op_conns[$o]=$conns; op_token[$o]=LT_SOAK_TOKEN; op_accept[$o]=; done
op_conns[ingest]=$ingest_conns
op_token[record-grant]=LT_SOAK_CONSUMER_TOKEN
op_accept[sdmx-json]=$sdmx_json
op_accept[sdmx-csv]=$sdmx_csv
op_paths=([record-admin]=$record_path [record-grant]=$record_path [observations]=$obs_paths
  [sdmx-json]=$sdmx_paths [sdmx-csv]=$sdmx_paths [relay]=/v1/services/soak-relay/call
  [ingest]=/v1/services/$service/records)

# Every read answers 200 once before the run (an error here would only repeat for 10 minutes).
for o in "${ops[@]}"; do
  [ "$o" != ingest ] || continue
  IFS='|' read -r -a paths <<<"${op_paths[$o]}"
  for p in "${paths[@]}"; do
    hdr=(-H "Authorization: Bearer ${!op_token[$o]}")
    [ -z "${op_accept[$o]}" ] || hdr+=(-H "Accept: ${op_accept[$o]}")
    code=$(curl -sS -o "$work/check.out" -w '%{http_code}' "${hdr[@]}" "$lt$p")
    expect 200 "$work/check.out" "$code" "$o: GET $p"
  done
done
grep -q '"restricted_fields":\["reporter"\]' <(curl -sS -H "Authorization: Bearer $LT_SOAK_CONSUMER_TOKEN" \
  "$lt$record_path") || { log "the consumer's read does not carry the projection"; exit 1; }

# --- audit and metrics before the run (neither request is audited) ----------------------------
metrics() { curl -sS --max-time 30 "$lt/metrics"; }
audit_count() { metrics | awk '/^lienthong_audit_entries /{print $2; exit}'; }
audit_settle() { # FILE: waits (up to 120 s) until the audit count has not moved for 1 s;
  local a b=x same=0 drained=no t0=$SECONDS # writes "count caught-up(yes|no) seconds"
  a=$(audit_count)
  for _ in $(seq 1 240); do
    sleep 0.5
    b=$(audit_count)
    if [ -n "$b" ] && [ "$b" = "$a" ]; then same=$((same + 1)); else same=0; fi
    [ "$same" -lt 2 ] || { drained=yes; break; }
    a=$b
  done
  echo "${b:-?} $drained $((SECONDS - t0))" >"$1"
}
audit_settle "$work/audit.before"
metrics >"$work/metrics.before"
[ -n "$(cut -d' ' -f1 "$work/audit.before")" ] || { log "no lienthong_audit_entries in /metrics"; exit 1; }

# --- the run ------------------------------------------------------------------------------------
export LUA_PATH="$here/?.lua;;"
export SOAK_SERVICE=$service SOAK_PROVIDER=$provider SOAK_CONTRACT=$contract
export SOAK_INDICATORS=BLHH,XNK_CK,VDT_NSNN SOAK_AREAS=$provinces SOAK_INGEST_RECORDS=$per_push
SOAK_RUN=$(date +%s)-$$
export SOAK_RUN SOAK_WRK_THREADS=1
rss_sample() { # ELAPSED: one line "elapsed VmRSS RssAnon RssFile (kB) warehouse-bytes (-1: unknown)"
  local wh
  wh=$(metrics 2>/dev/null | awk '/^lienthong_warehouse_bytes /{print $2; exit}') || wh=
  awk -v t="$1" -v w="${wh:--1}" '/^VmRSS/{r=$2} /^RssAnon/{a=$2} /^RssFile/{f=$2} END{print t, r, a, f, w}' \
    "/proc/$server_pid/status"
}
# wrk runs `drain` seconds longer than the load: the scripts send nothing new after
# SOAK_LOAD_SECONDS (soak_common.lua), so every request sent is answered before wrk stops.
drain=3
export SOAK_LOAD_SECONDS=$duration
echo "-t1 -c$conns per read operation, -t1 -c$ingest_conns for ingest, --timeout $wrk_timeout --latency; load for ${duration} s, then ${drain} s without new requests (-d$((duration + drain))s)" \
  >"$work/wrk.settings"
cut -d' ' -f1-3 /proc/loadavg >"$work/load.before"
log "running ${#ops[@]} wrk processes for $duration s: ${ops[*]}"
: >"$work/rss.samples"
SECONDS=0
rss_sample 0 >>"$work/rss.samples"
for o in "${ops[@]}"; do
  script=$here/soak_get.lua
  [ "$o" != ingest ] || script=$here/soak_ingest.lua
  SOAK_TOKEN_ENV=${op_token[$o]} SOAK_ACCEPT=${op_accept[$o]} SOAK_PATHS=${op_paths[$o]} \
    wrk -t1 -c"${op_conns[$o]}" -d"$((duration + drain))s" --timeout "$wrk_timeout" --latency -s "$script" \
    "$lt/" >"$work/wrk-$o.txt" 2>&1 &
  wrk_pids+=($!)
done
next=$sample_every
end_taken=no
while :; do
  running=0
  for p in "${wrk_pids[@]}"; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
  [ "$running" -gt 0 ] || break
  kill -0 "$server_pid" 2>/dev/null || { log "lienthong exited during the run (at $SECONDS s)"; exit 1; }
  if [ "$end_taken" = no ] && { [ "$SECONDS" -ge "$next" ] || [ "$SECONDS" -ge "$duration" ]; }; then
    rss_sample "$SECONDS" >>"$work/rss.samples"
    log "$SECONDS s: $(tail -n 1 "$work/rss.samples" | awk '{printf "VmRSS %d kB, RssAnon %d kB", $2, $3}')"
    [ "$SECONDS" -lt "$duration" ] || end_taken=yes
    next=$((next + sample_every))
  fi
  sleep 0.5
done
wrk_failed=
for i in "${!ops[@]}"; do
  wait "${wrk_pids[$i]}" || wrk_failed+=" ${ops[$i]}"
done
wrk_pids=()
[ -z "$wrk_failed" ] || { log "wrk failed for:$wrk_failed"; for o in $wrk_failed; do cat "$work/wrk-$o.txt" >&2; done; exit 1; }
cut -d' ' -f1-3 /proc/loadavg >"$work/load.after"
echo "$warmup $duration $sample_every" >"$work/rss.settings"
for o in "${ops[@]}"; do
  awk -v o="$o" '/Requests\/sec|Non-2xx|Socket errors|soak: (sent|5xx)/ {printf "soak:   %s: %s\n", o, $0}' \
    "$work/wrk-$o.txt" >&2
done

# --- the audit trail: entries written during the run against requests sent ------------------
audit_settle "$work/audit.after"
log "audit entries before/after: $(cut -d' ' -f1 "$work/audit.before") / $(cut -d' ' -f1 "$work/audit.after") (caught up: $(cut -d' ' -f2 "$work/audit.after"))"
metrics >"$work/metrics.after"
rss_sample "$SECONDS" >"$work/rss.drained"
code=$(curl -sS --max-time 600 -o "$work/verify.json" -w '%{http_code}' "${auth[@]}" "$lt/v1/audit/verify") || code=000
echo "$code" >"$work/verify.code"
log "GET /v1/audit/verify: HTTP $code $(head -c 200 "$work/verify.json")"

# --- stop lienthong (SIGTERM), then report -------------------------------------------------
alive_at_end=yes
kill -0 "$server_pid" 2>/dev/null || alive_at_end=no
hwm=$(awk '/^VmHWM/ {print $2 " " $3}' "/proc/$server_pid/status" 2>/dev/null || echo "?")
echo "$alive_at_end $hwm" >"$work/server.state"
du -sk "$work/data" | cut -f1 >"$work/data.kb"
stop_server
stop_nginx
log "lienthong exit status after SIGTERM: $(cat "$work/server.exit")"

printf '%s\n' "${ops[@]}" >"$work/ops"
for o in "${ops[@]}"; do printf '%s\t%s\n' "$o" "${op_label[$o]}" >>"$work/ops.labels"; done
"$py" - "$work" "$out" "$bin" "$service" <<'PY'
import datetime, json, os, platform, re, subprocess, sys
work, out, binpath, service = sys.argv[1:5]

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
    r = {"rps": None, "p50": None, "p99": None, "max": None, "non2xx": 0, "errors": "",
         "requests": None, "soak": {}, "status": {}}
    m = re.search(r"Requests/sec:\s+([\d.]+)", t)
    if m: r["rps"] = float(m.group(1))
    m = re.search(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", t, re.M)
    if m: r["max"] = secs(m.group(1))
    for p in ("50", "99"):
        m = re.search(r"^\s+%s%%\s+(\S+)" % p, t, re.M)
        if m: r["p" + p] = secs(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
    if m: r["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors:\s+(.*)", t)
    if m: r["errors"] = m.group(1).strip()
    m = re.search(r"(\d+) requests in", t)
    if m: r["requests"] = int(m.group(1))
    for k, v in re.findall(r"^soak: (\S+) (\d+)$", t, re.M):
        if k.startswith("status-"):
            r["status"][k[7:]] = int(v)
        else:
            r["soak"][k] = int(v)
    return r

def ms(v):
    if v is None: return "?"
    if v >= 1.0: return "%.2f s" % v
    return "%.2f ms" % (v * 1e3) if v >= 1e-3 else "%.0f µs" % (v * 1e6)

def num(v):
    return "?" if v is None else "{:,.0f}".format(v)

def metrics(name):
    """requests by (route, status) and the plain gauges/counters of a /metrics snapshot"""
    req, plain = {}, {}
    for line in read(name).splitlines():
        m = re.match(r'lienthong_requests_total\{route="([^"]*)",status="([^"]*)"\} (\d+)', line)
        if m:
            req[(m.group(1), m.group(2))] = int(m.group(3))
            continue
        m = re.match(r'(lienthong_[a-z_]+(?:\{[^}]*\})?) ([\d.e+]+)$', line)
        if m:
            plain[m.group(1)] = float(m.group(2))
    return req, plain

ops = [l for l in read("ops").split() if l]
labels = dict(l.split("\t", 1) for l in read("ops.labels").splitlines() if "\t" in l)
runs = {o: wrk(o) for o in ops}

# --- memory ---------------------------------------------------------------------------------
warmup, duration, every = (int(x) for x in (read("rss.settings", "30 600 10").split() + ["0"] * 3)[:3])
samples = []
for line in read("rss.samples").splitlines():
    f = line.split()
    if len(f) == 5 and all(re.match(r"-?\d+$", x) for x in f):
        samples.append(tuple(int(x) for x in f))

def pick(pred, key=None):
    cand = [s for s in samples if pred(s)]
    if not cand: return None
    return min(cand, key=key) if key else cand[0]

start = pick(lambda s: s[0] >= warmup)
middle = pick(lambda s: True, key=lambda s: abs(s[0] - duration / 2.0))
end = samples[-1] if samples else None

def change(a, b, col):
    if not a or not b or not a[col]: return None
    return (b[col] - a[col]) * 100.0 / a[col]

def mb(kb):
    return "%.1f MB" % (kb / 1024.0)

def pct(v):
    return "?" if v is None else "%+.1f %%" % v

rss_change = change(start, end, 1)
anon_change = change(start, end, 2)
peak = max((s[1] for s in samples), default=None)
drained = read("rss.drained").split()
ing = runs.get("ingest", {"requests": None, "soak": {}})
per_push = int(os.environ.get("SOAK_INGEST_RECORDS", "4"))
pushes_ok = ing["soak"].get("2xx", 0)
pushed_new = ing["soak"].get("accepted", 0)

# --- audit, server-side counts --------------------------------------------------------------
sent = sum(r["soak"].get("sent", 0) for r in runs.values())
completed = sum((r["requests"] or 0) for r in runs.values())
ab, aa = read("audit.before").split(), read("audit.after").split()
try:
    audit_delta = int(aa[0]) - int(ab[0])
except (ValueError, IndexError):
    audit_delta = None
caught_up = len(aa) > 1 and aa[1] == "yes"
req0, plain0 = metrics("metrics.before")
req1, plain1 = metrics("metrics.after")
route_delta = {}
for k, v in req1.items():
    d = v - req0.get(k, 0)
    if d: route_delta[k] = d
srv_total = sum(route_delta.values())
srv_5xx = sum(v for (r, s), v in route_delta.items() if s.isdigit() and int(s) >= 500)
srv_other = sum(v for (r, s), v in route_delta.items() if not s.isdigit())
acc_key = 'lienthong_ingest_records_total{outcome="accepted"}'
ingested = int(plain1.get(acc_key, 0) - plain0.get(acc_key, 0))
wh0, wh1 = plain0.get("lienthong_warehouse_bytes"), plain1.get("lienthong_warehouse_bytes")
try:
    verify = json.loads(read("verify.json"))
except ValueError:
    verify = {}
verify_code = read("verify.code").strip() or "?"
chain_valid = verify_code == "200" and verify.get("valid") is True
exit_status = read("server.exit").strip() or "?"
alive, *hwm = read("server.state", "? ?").split()
wrk_5xx = sum(r["soak"].get("5xx", 0) for r in runs.values())
audit_equal = audit_delta is not None and audit_delta == sent

# --- the server log: anything but its own info/debug lines --------------------------------
nlines, bad = 0, []
with open(os.path.join(work, "server.log"), encoding="utf-8", errors="replace") as f:
    for line in f:
        if not line.strip(): continue
        nlines += 1
        if not re.match(r"^\S+Z (info|debug) ", line):
            bad.append(line.rstrip("\n"))

# --- machine --------------------------------------------------------------------------------
cpu = "?"
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip(); break
mem = "?"
for line in open("/proc/meminfo"):
    if line.startswith("MemTotal"):
        mem = "%.1f GiB" % (int(line.split()[1]) / 1048576); break
wrk_ver = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0].replace("wrk", "").strip()
ngx_ver = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1]
try:
    lt_ver = json.loads(read("healthz.body")).get("version", "?")
except ValueError:
    lt_ver = "?"

def yes(ok, detail=""):
    return ("yes" if ok else "**no**") + (" (%s)" % detail if detail else "")

now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
L = ["## Soak", ""]
L.append("Endurance run (issue 6; not part of `make test`): `make soak` builds like `make bench` and runs")
L.append("`bench/soak.sh build/lienthong`: lienthong (a copy of examples/lang-son/lienthong.json, own data")
L.append("dir, `threads: 0`) and nginx as the relay's upstream, both on 127.0.0.1; after seeding (2,040 IIP")
L.append("and 816 CPI observations, a consumer system with a grant, a relay service) one wrk process per")
L.append("operation (bench/soak_get.lua, bench/soak_ingest.lua) runs for `SOAK_DURATION` seconds (default")
L.append("600), all at once; then wrk waits 3 s more without sending, so every request sent is answered.")
L.append("Figures: *requests* are answers wrk received, req/s over the load time; *5xx* is counted by the")
L.append("scripts' `response()` and cross-checked with the server's `lienthong_requests_total`; resident")
L.append("memory is the server's VmRSS (RssAnon is its heap; the rest is mostly LMDB's mapped file pages,")
L.append("which grow with the data), sampled every `SOAK_SAMPLE` s, start = the first sample after the")
L.append("warm-up (`SOAK_WARMUP`, at most a quarter of the run); audit entries are the growth of")
L.append("`lienthong_audit_entries` over the run once the audit writer has caught up, to equal the requests")
L.append("the scripts sent (every loaded route is audited; /healthz and /metrics are not loaded).")
L.append("libmicrohttpd binds each connection to one worker thread (`threads: 0`: one per CPU), so the")
L.append("operations whose connections share a worker with the pushes wait for the pushes' commits.")
L.append("Settings: `SOAK_DURATION`, `SOAK_CONNS`, `SOAK_INGEST_CONNS`, `SOAK_INGEST_RECORDS`,")
L.append("`SOAK_WARMUP`, `SOAK_SAMPLE`, `SOAK_OUT=-` (print instead of writing here); see the script.")
L.append("")
L.append("Latest soak run:")
L.append("")
L.append("- Date: %s; %d s of load" % (now, duration))
L.append("- Machine: %s CPU(s) (`nproc`), %s, %s RAM, Linux %s" % (os.cpu_count(), cpu, mem, platform.release()))
L.append("- lienthong %s (`%s`, `threads: 0`), nginx %s, wrk %s" % (lt_ver, os.path.relpath(binpath), ngx_ver, wrk_ver))
L.append("- wrk: `%s`, one process per operation, all at the same time; wrk, nginx and lienthong share the machine's CPUs" % read("wrk.settings").strip())
L.append("- Load average (1, 5, 15 min) before: %s; after: %s" % (read("load.before").strip() or "?", read("load.after").strip() or "?"))
L.append("")
L.append("| operation | requests | req/s | p50 | p99 | max | non-2xx | 5xx | socket errors |")
L.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
tot_rps = 0.0
for o in ops:
    r = runs[o]
    r["rps"] = r["requests"] / float(duration) if r["requests"] is not None and duration else None
    tot_rps += r["rps"] or 0
    errs = r["errors"] or "0"
    other = ", ".join("%s×%d" % (k, v) for k, v in sorted(r["status"].items()))
    L.append("| %s | %s | %s | %s | %s | %s | %d%s | %s | %s |" % (
        labels.get(o, o), num(r["requests"]), num(r["rps"]), ms(r["p50"]), ms(r["p99"]),
        ms(r["max"]), r["non2xx"], (" (%s)" % other) if other else "",
        num(r["soak"].get("5xx")), errs))
L.append("| all | %s | %s | | | | %d | %d | |" % (num(completed), num(tot_rps),
         sum(r["non2xx"] for r in runs.values()), wrk_5xx))
L.append("")
L.append("- 5xx answers (goal 0): %s seen by wrk, %s counted by the server (`lienthong_requests_total`, %s requests on all routes during the run%s) — %s" % (
    "{:,}".format(wrk_5xx), "{:,}".format(srv_5xx), "{:,}".format(srv_total),
    (", %d with a status outside the table" % srv_other) if srv_other else "",
    yes(wrk_5xx == 0 and srv_5xx == 0)))
def sample_txt(s):
    if not s: return "?"
    return "%s (RssAnon %s) at %d s" % (mb(s[1]), mb(s[2]), s[0])
L.append("- Resident memory (goal: flat within 10 %%): start %s, middle %s, end %s; change start → end: VmRSS %s — %s; RssAnon (the heap) %s — %s" % (
    sample_txt(start), sample_txt(middle), sample_txt(end),
    pct(rss_change), yes(rss_change is not None and abs(rss_change) <= 10.0),
    pct(anon_change), yes(anon_change is not None and abs(anon_change) <= 10.0)))
L.append("  - peak VmRSS sampled %s; VmHWM %s; after the audit writer caught up %s; all %d samples (s: MB): %s" % (
    mb(peak) if peak else "?", " ".join(hwm) or "?", mb(int(drained[1])) if len(drained) > 1 and drained[1].isdigit() else "?",
    len(samples), ", ".join("%d: %.0f" % (s[0], s[1] / 1024.0) for s in samples)))
L.append("  - warehouse grew from %s to %s (`lienthong_warehouse_bytes`: records, revisions, the observations index and the audit trail; data dir %s at the end)" % (
    mb(wh0 / 1024) if wh0 is not None else "?", mb(wh1 / 1024) if wh1 is not None else "?",
    mb(int(read("data.kb", "0").strip() or 0))))
if start and end:
    L.append("  - between the start and end samples RssFile (file pages mapped, mostly LMDB's data file) went from %s to %s, the warehouse file (`lienthong_warehouse_bytes`) from %s to %s" % (
        mb(start[3]), mb(end[3]), mb(start[4] / 1024.0) if start[4] >= 0 else "?",
        mb(end[4] / 1024.0) if end[4] >= 0 else "?"))
if "ingest" in runs:
    L.append("- Every push wrote (goal): %s pushes answered 200 with %s new records accepted (%d per push expected: %s); the server counted %s accepted — %s" % (
        "{:,}".format(pushes_ok), "{:,}".format(pushed_new), per_push,
        "{:,}".format(pushes_ok * per_push), "{:,}".format(ingested),
        yes(pushed_new == pushes_ok * per_push and ingested == pushed_new)))
L.append("- Audit entries written during the run vs requests sent (goal: equal): %s entries, %s requests sent, %s answers received (%s unanswered) — %s; the writer %s" % (
    num(audit_delta), "{:,}".format(sent), "{:,}".format(completed), "{:,}".format(sent - completed),
    yes(audit_equal, "" if audit_equal or audit_delta is None else "difference %+d" % (audit_delta - sent)),
    "caught up %s s after the load" % aa[2] if caught_up and len(aa) > 2 else "had NOT caught up after 120 s"))
L.append("- Audit chain at the end (`GET /v1/audit/verify`): HTTP %s, %s entries, valid: %s" % (
    verify_code, num(verify.get("entries")), yes(chain_valid)))
L.append("- lienthong after the run: %s; exit status after SIGTERM: %s — %s" % (
    "running" if alive == "yes" else "NOT running", exit_status, yes(exit_status == "0")))
L.append("- Server log: %s lines, %d warning/error lines (anything but info/debug)%s" % (
    "{:,}".format(nlines), len(bad), ":" if bad else ""))
for l in bad[:5]:
    L.append("  - `%s`" % l[:160].replace("`", "'"))
L.append("")
section = "\n".join(L) + "\n"

if out == "-":
    sys.stdout.write(section)
    sys.exit(0)
try:
    doc = open(out, encoding="utf-8").read()
except OSError:
    doc = "# Benchmarks\n"
m = re.search(r"^## Soak\b.*?(?=^## |\Z)", doc, re.M | re.S)
if m:
    rest = doc[m.end():]  # the next section, if any (the match ends at its heading)
    doc = doc[:m.start()] + (section + rest if rest else section.rstrip("\n") + "\n")
else:
    doc = doc.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
open(out, "w", encoding="utf-8").write(doc)
print("soak: wrote %s" % out, file=sys.stderr)
sys.stdout.write(section)
PY
