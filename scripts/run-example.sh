#!/usr/bin/env bash
# Starts lienthong with a bootstrap config (by default the bundled Lạng Sơn example) after
# printing an admin token and three curl commands ready to paste into another terminal.
# usage: scripts/run-example.sh BIN CONFIG
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BIN CONFIG" >&2
  exit 2
fi
bin=$1
config=$2
[ -x "$bin" ] || { echo "run-example: $bin is not an executable (run 'make build')" >&2; exit 1; }
[ -f "$config" ] || { echo "run-example: no config file $config" >&2; exit 1; }

# Where the gateway will listen: LIENTHONG_LISTEN overrides the config's "listen".
listen=${LIENTHONG_LISTEN:-$(sed -n 's/.*"listen"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$config" | head -n 1)}
listen=${listen:-127.0.0.1:8080}
base="http://$listen"

token=$("$bin" token --config "$config" --sub operator --org 000.00.12.H32 --roles admin --ttl 86400)
sample="$(cd "$(dirname "$config")" && pwd)/data/stc-thu-ngan-sach-2026-10.json"

cat <<MSG
lienthong — example set $(dirname "$config")

Admin token (operator of Sở KH&CN, valid 24 h):

TOKEN=$token

Try, from another terminal:

  curl -s $base/healthz

  curl -s -H "Authorization: Bearer \$TOKEN" -H 'Content-Type: application/json' \\
       --data-binary @$sample \\
       $base/v1/services/stc-thu-ngan-sach/records

  curl -s -H "Authorization: Bearer \$TOKEN" \\
       $base/v1/services/stc-thu-ngan-sach/records

Starting the gateway on $listen (Ctrl-C stops it)…
MSG

exec "$bin" serve --config "$config"
