#!/usr/bin/env bash
# `make bench`: performance figures, each beside a baseline measured in the same run on this machine.
#
#   1. GET /v1/boroughs/{gss_code} through HTTP with an API key (wrk, release build, DB pool of N) beside
#      pgbench running the same SELECT over N connections (extended protocol, as the server uses).
#      Target: HTTP throughput at least half of pgbench's. Also latency and the server's resident memory.
#   2. The same request with a key beside the same server built without authentication, authorisation and
#      rate limiting (Benchmarks/BenchServer). Target: they cost under 15 % of throughput.
#   3. Near search (200 m) at random points in central London over BENCH_CAMERAS synthetic cameras (default
#      1,000,000, generated once and kept): p50/p99 through HTTP (wrk) and of the same query in the database alone
#      (pgbench), each with 2 and with 8 connections. Target: HTTP p99 at most 10 ms.
#   4. CSV export of every camera: time, and the server's peak memory before and after (target: constant).
#   5. Audit rows recorded per second by 32 concurrent writers (audit_record, as every write does inside its
#      transaction) beside the same writers inserting into an unchained table; then how fast the chainer
#      links the backlog into the hash chain.
#
# Settings: BENCH_SECONDS (default 15), BENCH_DB_CONNECTIONS (default 16), BENCH_HTTP_CONNECTIONS (default 64),
# BENCH_CAMERAS (default 1000000).
set -euo pipefail

port=${1:-54332}
seconds=${BENCH_SECONDS:-15}
db_connections=${BENCH_DB_CONNECTIONS:-16}
http_connections=${BENCH_HTTP_CONNECTIONS:-64}
http_port=${BENCH_HTTP_PORT:-18080}
cameras=${BENCH_CAMERAS:-1000000}
bare_port=$((http_port + 1))
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
pg_bin=${SIGHTLINE_PG_BIN:-/usr/lib/postgresql/15/bin}

round() { awk -v a="$1" 'BEGIN { printf "%.0f", a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t) ? "meets" : "MISSES" }'; }

url=$(scripts/pg.sh start bench "$port")
server_url=$(scripts/pg.sh url bench "$port" sightline_server)
echo "Building the release binaries…"
swift build -c release >/dev/null
bin_dir=$(swift build -c release --show-bin-path)
bin=$bin_dir/sightline
SIGHTLINE_DATABASE_URL="$url" "$bin" migrate >/dev/null
have=$(psql -X -tA "$url" -c "SELECT count(*) FROM cameras")
seed_note="(present already)"
if [ "$have" -lt "$cameras" ]; then
    echo "Generating $((cameras - have)) synthetic cameras (once; kept in .data/bench)…"
    seed_start=$(date +%s.%N)
    SIGHTLINE_DATABASE_URL="$url" "$bin" seed synthetic --cameras $((cameras - have)) >/dev/null
    seed_note="(generated in $(awk -v a="$seed_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s)"
    psql -X -q "$url" -c "ANALYZE cameras"
fi
have=$(psql -X -tA "$url" -c "SELECT count(*) FROM cameras")
# Every /v1 call needs a key: a requester of the MPS, as an investigator's system would use.
key=$(SIGHTLINE_DATABASE_URL="$url" "$bin" keys create --org "Metropolitan Police Service" --role requester --name "bench" 2>/dev/null)

# The rate limiter runs but is set wide open: this measures its cost, not its refusals.
SIGHTLINE_DATABASE_URL="$server_url" SIGHTLINE_HTTP_PORT=$http_port SIGHTLINE_LOG_LEVEL=warning \
    SIGHTLINE_RATE_LIMIT_PER_SECOND=1000000 SIGHTLINE_RATE_LIMIT_BURST=1000000 \
    SIGHTLINE_DB_POOL_SIZE=$db_connections "$bin" serve >"$root/.data/bench/server.log" 2>&1 &
server=$!
SIGHTLINE_DATABASE_URL="$server_url" SIGHTLINE_HTTP_PORT=$bare_port SIGHTLINE_DB_POOL_SIZE=$db_connections \
    "$bin_dir/sightline-bench-server" >"$root/.data/bench/bare-server.log" 2>&1 &
bare=$!
stop_servers() {
    kill $server $bare 2>/dev/null || true
    wait $server $bare 2>/dev/null || true
}
trap 'stop_servers; SIGHTLINE_DATABASE_URL="$url" "$bin" keys revoke "${key:8:12}" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$http_port/readyz" >/dev/null && curl -fs "http://127.0.0.1:$bare_port/readyz" >/dev/null && break
    sleep 0.1
done

path="/v1/boroughs/E09000033"
sql="SELECT gss_code, name, organisation_id FROM boroughs WHERE gss_code = 'E09000033';"
script="$root/.data/bench/select.sql"
echo "$sql" >"$script"

wrk_run() { wrk -t2 -c"$http_connections" -d"$1" --latency "${@:2}"; }
echo "Warming up…"
wrk_run 3s -H "Authorization: Bearer $key" "http://127.0.0.1:$http_port$path" >/dev/null
wrk_run 3s "http://127.0.0.1:$bare_port$path" >/dev/null
"$pg_bin/pgbench" -n -M extended -c "$db_connections" -j 2 -T 3 -f "$script" "$url" >/dev/null 2>&1

echo "Measuring for ${seconds}s each…"
wrk_out=$(wrk_run "${seconds}s" -H "Authorization: Bearer $key" "http://127.0.0.1:$http_port$path")
rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
hwm_kib=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
bare_out=$(wrk_run "${seconds}s" "http://127.0.0.1:$bare_port$path")
pgbench_out=$("$pg_bin/pgbench" -n -M extended -c "$db_connections" -j 2 -T "$seconds" -f "$script" "$url" 2>&1)

# Near search: random centres over central London (51.45-51.56 N, 0.25 W-0.05 E), radius 200 m, first page of 50.
near_lua="$root/.data/bench/near.lua"
cat >"$near_lua" <<LUA
local key = "$key"
math.randomseed(4711)
request = function()
    local lat = 51.45 + math.random() * 0.11
    local lon = -0.25 + math.random() * 0.30
    return wrk.format("GET", string.format("/v1/cameras?near=%.5f,%.5f&radius_m=200", lat, lon), { ["Authorization"] = "Bearer " .. key })
end
LUA
near_sql="$root/.data/bench/near.sql"
cat >"$near_sql" <<'SQL'
\set lat random(514500, 515600)
\set lon random(-2500, 500)
SELECT c.id, c.owner_org_id, c.control_room_id, c.kind, ST_Y(c.location::geometry), ST_X(c.location::geometry), c.borough_gss,
       c.status, coalesce(c.retention_days, r.default_retention_days),
       ST_Distance(c.location, ST_SetSRID(ST_MakePoint(:lon / 10000.0, :lat / 10000.0), 4326)::geography) AS distance
FROM cameras c LEFT JOIN control_rooms r ON r.id = c.control_room_id
WHERE NOT c.covert AND ST_DWithin(c.location, ST_SetSRID(ST_MakePoint(:lon / 10000.0, :lat / 10000.0), 4326)::geography, 200)
ORDER BY distance, c.id LIMIT 51;
SQL
wrk -t2 -c8 -d3s -s "$near_lua" "http://127.0.0.1:$http_port" >/dev/null
to_ms() { awk '/us$/ { sub("us", ""); print $1 / 1000; next } /ms$/ { sub("ms", ""); print $1; next } /s$/ { sub("s", ""); print $1 * 1000 }'; }
near_http() {  # connections → "p50 p99 req/s non-2xx"
    local out
    out=$(wrk -t2 -c"$1" -d"${seconds}s" --latency -s "$near_lua" "http://127.0.0.1:$http_port")
    echo "$(echo "$out" | awk '$1 == "50%" {print $2}' | to_ms) $(echo "$out" | awk '$1 == "99%" {print $2}' | to_ms)" \
        "$(round "$(echo "$out" | awk '/Requests\/sec/ {print $2}')") $(echo "$out" | awk '/Non-2xx/ {print $NF}' | grep . || echo 0)"
}
near_db() {  # connections → "p50 p99 queries/s"
    rm -f "$root"/.data/bench/pgbench_log.*
    (cd "$root/.data/bench" && "$pg_bin/pgbench" -n -M extended -c "$1" -j 2 -T "$seconds" -l -f "$near_sql" "$url" >/dev/null 2>&1)
    cat "$root"/.data/bench/pgbench_log.* | awk '{ print $3 }' | sort -n |
        awk -v s="$seconds" '{ v[NR] = $1 } END { printf "%.2f %.2f %.0f", v[int(NR * 0.5)] / 1000, v[int(NR * 0.99)] / 1000, NR / s }'
    rm -f "$root"/.data/bench/pgbench_log.*
}
read -r near2_p50 near2_p99 near2_rps near2_errors <<<"$(near_http 2)"
read -r near8_p50 near8_p99 near8_rps near8_errors <<<"$(near_http 8)"
read -r db2_p50 db2_p99 db2_qps <<<"$(near_db 2)"
read -r db8_p50 db8_p99 db8_qps <<<"$(near_db 8)"

# CSV export of every camera: time, size, and the server's peak resident memory before and after.
hwm_before=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
export_start=$(date +%s.%N)
export_bytes=$(curl -s -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $key" "http://127.0.0.1:$http_port/v1/cameras/export?format=csv")
export_seconds=$(awk -v a="$export_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
hwm_after=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
stop_servers

http_rps=$(echo "$wrk_out" | awk '/Requests\/sec/ {print $2}')
errors=$(echo "$wrk_out" | awk '/Non-2xx/ {print $NF}')
p50=$(echo "$wrk_out" | awk '$1 == "50%" {print $2}')
p99=$(echo "$wrk_out" | awk '$1 == "99%" {print $2}')
bare_rps=$(echo "$bare_out" | awk '/Requests\/sec/ {print $2}')
bare_errors=$(echo "$bare_out" | awk '/Non-2xx/ {print $NF}')
pg_tps=$(echo "$pgbench_out" | awk '/^tps/ {print $3}')
http_rps=$(round "$http_rps"); bare_rps=$(round "$bare_rps"); pg_tps=$(round "$pg_tps")
pg_ratio=$(ratio "$http_rps" "$pg_tps")
auth_ratio=$(ratio "$http_rps" "$bare_rps")

# Audit rows: 32 writers recording (no chainer running) beside the same writers inserting into an unchained
# table; then the backlog is chained in batches of 1,000, one transaction each, as the server's chainer does.
record_sql="$root/.data/bench/record.sql"
insert_sql="$root/.data/bench/insert.sql"
echo "SELECT audit_record('benchbenchbe', NULL, 'bench.record', 'thing', 'x', 'success', '127.0.0.1', 'r', '{\"n\": 1}');" >"$record_sql"
echo "INSERT INTO bench_unchained (occurred_at, action, detail) VALUES (clock_timestamp(), 'bench.record', '{\"n\": 1}');" >"$insert_sql"
psql -X -q "$url" -c "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_unchained; CREATE TABLE bench_unchained (seq bigserial PRIMARY KEY, occurred_at timestamptz, action text, detail jsonb)"
record_out=$("$pg_bin/pgbench" -n -M extended -c 32 -j 2 -T "$seconds" -f "$record_sql" "$server_url" 2>&1)
insert_out=$("$pg_bin/pgbench" -n -M extended -c 32 -j 2 -T "$seconds" -f "$insert_sql" "$url" 2>&1)
psql -X -q "$url" -c "DROP TABLE bench_unchained"
record_tps=$(echo "$record_out" | awk '/^tps/ {print $3}')
insert_tps=$(echo "$insert_out" | awk '/^tps/ {print $3}')
record_tps=$(round "$record_tps"); insert_tps=$(round "$insert_tps")
record_ratio=$(ratio "$record_tps" "$insert_tps")
backlog=$(psql -X -tA "$url" -c "SELECT count(*) FROM audit_pending")
chain_start=$(date +%s.%N)
psql -X -q "$server_url" -c "DO \$\$ BEGIN LOOP EXIT WHEN audit_chain(1000) = 0; COMMIT; END LOOP; END \$\$"
chain_end=$(date +%s.%N)
chain_rate=$(awk -v n="$backlog" -v a="$chain_start" -v b="$chain_end" 'BEGIN { printf "%.0f", n / (b - a) }')
chain=$(SIGHTLINE_DATABASE_URL="$url" "$bin" audit verify 2>&1 | tail -1)

echo
printf '%-62s %12s %12s %7s %s\n' "figure" "measured" "baseline" "ratio" "target"
printf '%-62s %12s %12s %7s %s\n' "GET /v1/boroughs/{gss} req/s with key (baseline: pgbench, $db_connections conns)" \
    "$http_rps" "$pg_tps" "$pg_ratio" "≥ 0.50 ($(verdict "$pg_ratio" 0.5))"
printf '%-62s %12s %12s %7s %s\n' "  same, baseline: the server without authentication" \
    "$http_rps" "$bare_rps" "$auth_ratio" "≥ 0.85 ($(verdict "$auth_ratio" 0.85))"
printf '%-62s %12s\n' "  HTTP latency p50 / p99 with key" "$p50 / $p99"
printf '%-62s %12s\n' "  non-2xx responses (with key / without)" "${errors:-0} / ${bare_errors:-0}"
echo "near search, 200 m, over $have cameras $seed_note; p50 / p99 in ms, rate, beside the database alone:"
printf '%-62s %12s %12s %7s %s\n' "  2 connections: HTTP p99 (baseline: database p99)" "$near2_p99" "$db2_p99" "-" "≤ 10 ($(verdict 10 "$near2_p99"))"
printf '%-62s %s\n' "    HTTP p50 / p99, req/s, non-2xx; database p50 / p99, q/s" "$near2_p50 / $near2_p99, $near2_rps, $near2_errors; $db2_p50 / $db2_p99, $db2_qps"
printf '%-62s %12s %12s %7s %s\n' "  8 connections: HTTP p99 (baseline: database p99)" "$near8_p99" "$db8_p99" "-" "≤ 10 ($(verdict 10 "$near8_p99"))"
printf '%-62s %s\n' "    HTTP p50 / p99, req/s, non-2xx; database p50 / p99, q/s" "$near8_p50 / $near8_p99, $near8_rps, $near8_errors; $db8_p50 / $db8_p99, $db8_qps"
printf '%-62s %12s %12s %7s %s\n' "CSV export of $have cameras: seconds ($((export_bytes / 1048576)) MiB)" "$export_seconds" "-" "-" "-"
printf '%-62s %12s %12s %7s %s\n' "  server peak memory after export (baseline: before) (MiB)" "$((hwm_after / 1024))" "$((hwm_before / 1024))" \
    "$(ratio "$hwm_after" "$hwm_before")" "constant ($(awk -v a="$hwm_after" -v b="$hwm_before" 'BEGIN { print (a - b < 32768) ? "meets" : "MISSES" }'): under 32 MiB more)"
printf '%-62s %12s %12s %7s %s\n' "server resident memory after load (MiB)" "$((rss_kib / 1024))" "-" "-" "≤ 256 (peak $((hwm_kib / 1024)))"
printf '%-62s %12s %12s %7s %s\n' "audit rows recorded/s, 32 writers (baseline: plain INSERT)" "$record_tps" "$insert_tps" "$record_ratio" "≥ 0.50 ($(verdict "$record_ratio" 0.5))"
printf '%-62s %12s %12s %7s %s\n' "audit rows chained/s (backlog of $backlog, batches of 1,000)" "$chain_rate" "$record_tps" "$(ratio "$chain_rate" "$record_tps")" "≥ 1.00 ($(verdict "$(ratio "$chain_rate" "$record_tps")" 1))"
echo "  after the run: $chain"
echo
echo "baselines: pgbench -M extended -c $db_connections -j 2 running: $sql"
echo "           wrk -t2 -c$http_connections against Benchmarks/BenchServer (the same router without authentication)"
