#!/usr/bin/env bash
# `make bench`: performance figures, each beside a baseline measured in the same run on this machine.
#
#   GET /v1/boroughs/{gss_code} through HTTP with an API key (wrk, 64 connections, release build, DB pool of N)
#   beside pgbench running the same SELECT over N connections (extended protocol, as the server uses).
#   Target: HTTP throughput at least half of pgbench's. Also reports latency and the server's resident memory.
#
# Settings: BENCH_SECONDS (default 15), BENCH_DB_CONNECTIONS (default 16), BENCH_HTTP_CONNECTIONS (default 64).
set -euo pipefail

port=${1:-54332}
seconds=${BENCH_SECONDS:-15}
db_connections=${BENCH_DB_CONNECTIONS:-16}
http_connections=${BENCH_HTTP_CONNECTIONS:-64}
http_port=${BENCH_HTTP_PORT:-18080}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
pg_bin=${SIGHTLINE_PG_BIN:-/usr/lib/postgresql/15/bin}

url=$(scripts/pg.sh start bench "$port")
echo "Building the release binary…"
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)/sightline
SIGHTLINE_DATABASE_URL="$url" "$bin" migrate >/dev/null
# Every /v1 call needs a key: a requester of the MPS, as an investigator's system would use.
key=$(SIGHTLINE_DATABASE_URL="$url" "$bin" keys create --org "Metropolitan Police Service" --role requester --name "bench" 2>/dev/null)

# The rate limiter runs but is set wide open: this measures its cost, not its refusals.
SIGHTLINE_DATABASE_URL="$url" SIGHTLINE_HTTP_PORT=$http_port SIGHTLINE_LOG_LEVEL=warning \
    SIGHTLINE_RATE_LIMIT_PER_SECOND=1000000 SIGHTLINE_RATE_LIMIT_BURST=1000000 \
    SIGHTLINE_DB_POOL_SIZE=$db_connections "$bin" serve >"$root/.data/bench/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; SIGHTLINE_DATABASE_URL="$url" "$bin" keys revoke "${key:8:12}" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$http_port/readyz" >/dev/null && break
    sleep 0.1
done

target="http://127.0.0.1:$http_port/v1/boroughs/E09000033"
sql="SELECT gss_code, name, organisation_id FROM boroughs WHERE gss_code = 'E09000033';"
script="$root/.data/bench/select.sql"
echo "$sql" >"$script"

echo "Warming up…"
wrk -t2 -c"$http_connections" -d3s -H "Authorization: Bearer $key" "$target" >/dev/null
"$pg_bin/pgbench" -n -M extended -c "$db_connections" -j 2 -T 3 -f "$script" "$url" >/dev/null 2>&1

echo "Measuring for ${seconds}s each…"
wrk_out=$(wrk -t2 -c"$http_connections" -d"${seconds}s" --latency -H "Authorization: Bearer $key" "$target")
rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
hwm_kib=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
pgbench_out=$("$pg_bin/pgbench" -n -M extended -c "$db_connections" -j 2 -T "$seconds" -f "$script" "$url" 2>&1)

http_rps=$(echo "$wrk_out" | awk '/Requests\/sec/ {print $2}')
errors=$(echo "$wrk_out" | awk '/Non-2xx/ {print $NF}')
p50=$(echo "$wrk_out" | awk '$1 == "50%" {print $2}')
p99=$(echo "$wrk_out" | awk '$1 == "99%" {print $2}')
pg_tps=$(echo "$pgbench_out" | awk '/^tps/ {print $3}')
ratio=$(awk -v a="$http_rps" -v b="$pg_tps" 'BEGIN { printf "%.2f", a / b }')
verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.5) ? "meets" : "MISSES" }')

# Audit appends: 32 concurrent writers through audit_append() (which serialises on the chain head) beside the
# same writers inserting into an unchained copy of the table.
append_sql="$root/.data/bench/append.sql"
insert_sql="$root/.data/bench/insert.sql"
echo "SELECT audit_append('benchbenchbe', NULL, 'bench.append', 'thing', 'x', 'success', '127.0.0.1', 'r', '{\"n\": 1}');" >"$append_sql"
echo "INSERT INTO bench_unchained (occurred_at, action, detail) VALUES (clock_timestamp(), 'bench.append', '{\"n\": 1}');" >"$insert_sql"
psql -X -q "$url" -c "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_unchained; CREATE TABLE bench_unchained (seq bigserial PRIMARY KEY, occurred_at timestamptz, action text, detail jsonb)"
append_out=$("$pg_bin/pgbench" -n -M extended -c 32 -j 2 -T "$seconds" -f "$append_sql" "$url" 2>&1)
insert_out=$("$pg_bin/pgbench" -n -M extended -c 32 -j 2 -T "$seconds" -f "$insert_sql" "$url" 2>&1)
psql -X -q "$url" -c "DROP TABLE bench_unchained"
append_tps=$(echo "$append_out" | awk '/^tps/ {print $3}')
insert_tps=$(echo "$insert_out" | awk '/^tps/ {print $3}')
append_ratio=$(awk -v a="$append_tps" -v b="$insert_tps" 'BEGIN { printf "%.2f", a / b }')
chain=$(SIGHTLINE_DATABASE_URL="$url" "$bin" audit verify 2>&1 | tail -1)

echo
printf '%-58s %14s %14s %8s %s\n' "figure" "measured" "baseline" "ratio" "target"
printf '%-58s %14s %14s %8s %s\n' "GET /v1/boroughs/{gss_code} req/s ($http_connections HTTP conns, $db_connections DB)" \
    "$http_rps" "$pg_tps" "$ratio" "≥ 0.50 of pgbench ($verdict)"
printf '%-58s %14s\n' "  HTTP latency p50 / p99" "$p50 / $p99"
printf '%-58s %14s\n' "  non-2xx responses" "${errors:-0}"
printf '%-58s %14s %14s %8s %s\n' "server resident memory after load (MiB)" "$((rss_kib / 1024))" "-" "-" "≤ 256 (peak $((hwm_kib / 1024)))"
printf '%-58s %14s %14s %8s %s\n' "audit appends/s, 32 writers (baseline: unchained INSERT)" "$append_tps" "$insert_tps" "$append_ratio" "-"
echo "  after the run: $chain"
echo
echo "baseline: pgbench -M extended -c $db_connections -j 2 running: $sql"
