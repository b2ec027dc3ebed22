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
#   6. POST /v1/evidence-requests (about ten cameras, three holders) through HTTP beside pgbench running the same
#      transaction: throughput, and p99 at half that rate. Targets: at least 500/s; p99 at most 50 ms.
#   6b. GET /v1/evidence-tasks: the queue of an operator whose room holds 1,000 open tasks (pending and
#      acknowledged, some at risk, some escalated; each with its brief and three cameras): p50/p99 with 8
#      connections, beside the same page's queries in the database alone (pgbench, 8 connections).
#   6c. A shared-room proposal of 10 rooms: its appraisal over 60 years (p50/p99, 8 connections, beside the database
#      alone), and implementing it, which moves 20,000 cameras: seconds, and the events written.
#   6d. Nightly reports over a year of BENCH_REQUESTS synthetic requests (default 1,000,000, generated once and
#      kept): building every organisation's reports of one day (target ≤ 60 s), the building process's peak memory,
#      and one HTML report fetched with 8 connections beside the same report as JSON, with the server's memory.
#   7. A 2 GiB exhibit uploaded and downloaded (curl): throughput, and the server's peak memory (target: constant).
#   8. Webhooks to a local receiver: deliveries per second sustained through four endpoints (target ≥ 1,000),
#      beside what the receiver takes from wrk; idle event-to-delivery latency of evidence requests made one at a
#      time (target p50 ≤ 100 ms).
#
# Settings: BENCH_SECONDS (default 15), BENCH_DB_CONNECTIONS (default 16), BENCH_HTTP_CONNECTIONS (default 64),
# BENCH_CAMERAS (default 1000000), BENCH_REQUESTS (default 1000000).
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
# Each run starts from the same state: the evidence requests and events earlier runs made are removed. (Those with
# exhibits stay, as custody is kept for ever; so does the append-only audit log.) Without this, each run measured
# a database holding every earlier run's requests, tasks and events: after a few dozen runs, 83,000 requests,
# 253,000 tasks and 669,000 events, and evidence throughput a third lower.
# The synthetic history section 6d reports on stays as well.
psql -X -q -v ON_ERROR_STOP=1 "$url" <<'SQL'
BEGIN;
CREATE TEMP TABLE doomed ON COMMIT DROP AS
SELECT q.id FROM evidence_requests q
WHERE q.authorised_by IS DISTINCT FROM 'Synthetic history'
  AND NOT EXISTS (SELECT 1 FROM evidence_tasks t JOIN evidence_items i ON i.task_id = t.id WHERE t.request_id = q.id);
ANALYZE doomed;
DELETE FROM evidence_task_cameras c USING evidence_tasks t, doomed d WHERE c.task_id = t.id AND t.request_id = d.id;
DELETE FROM evidence_request_exclusions x USING doomed d WHERE x.request_id = d.id;
DELETE FROM evidence_tasks t USING doomed d WHERE t.request_id = d.id;
DELETE FROM evidence_requests q USING doomed d WHERE q.id = d.id;
DELETE FROM events;
COMMIT;
VACUUM ANALYZE evidence_task_cameras, evidence_request_exclusions, evidence_tasks, evidence_requests, events;
SQL
# The rooms, cameras and proposal section 6c made in the last run go too, now, while no evidence task refers to
# anything (deleting 20,000 cameras once the evidence section has run means checking each against its tasks).
bench_proposal_cleanup() {
    psql -X -q -v ON_ERROR_STOP=1 "$url" <<'SQL'
BEGIN;
DELETE FROM proposal_milestones WHERE proposal_id IN (SELECT id FROM proposals WHERE title LIKE 'Bench: %');
DELETE FROM proposal_endorsements WHERE proposal_id IN (SELECT id FROM proposals WHERE title LIKE 'Bench: %');
DELETE FROM proposal_rooms WHERE proposal_id IN (SELECT id FROM proposals WHERE title LIKE 'Bench: %');
DELETE FROM proposals WHERE title LIKE 'Bench: %';
DELETE FROM cameras WHERE control_room_id IN (SELECT id FROM control_rooms WHERE name LIKE 'Bench: %');
DELETE FROM control_rooms WHERE name LIKE 'Bench: %';
COMMIT;
SQL
}
bench_proposal_cleanup
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
# A year of evidence for the nightly reports (6d): BENCH_REQUESTS requests (default 1,000,000) with their tasks,
# generated once and kept, every task settled by the time it was generated (so no alert falls due in the runs).
requests_wanted=${BENCH_REQUESTS:-1000000}
history_have=$(psql -X -tA "$url" -c "SELECT count(*) FROM evidence_requests WHERE authorised_by = 'Synthetic history'")
history_note="(present already)"
if [ "$history_have" -lt "$requests_wanted" ]; then
    echo "Generating $((requests_wanted - history_have)) synthetic evidence requests over a year (once; kept in .data/bench)…"
    seed_start=$(date +%s.%N)
    SIGHTLINE_DATABASE_URL="$url" "$bin" seed synthetic --requests $((requests_wanted - history_have)) --days 365 --settled >/dev/null
    history_note="(generated in $(awk -v a="$seed_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s)"
    psql -X -q "$url" -c "VACUUM ANALYZE evidence_requests, evidence_tasks, evidence_task_cameras"
fi
history_have=$(psql -X -tA "$url" -c "SELECT count(*) FROM evidence_requests WHERE authorised_by = 'Synthetic history'")
history_tasks=$(psql -X -tA "$url" -c "SELECT count(*) FROM evidence_tasks")
# The server's reports job would build the nights it finds missing as it starts, amid the other measurements: they
# are marked built (6d builds a night by hand, as sightline reports build does).
psql -X -q "$url" -c "INSERT INTO job_runs (name, period, finished_at, detail)
    SELECT 'nightly-reports', d::date::text, now(), '{\"bench\": true}' FROM generate_series(current_date - 9, current_date, interval '1 day') d
    ON CONFLICT DO NOTHING"
# Every /v1 call needs a key: a requester of the MPS, as an investigator's system would use.
key=$(SIGHTLINE_DATABASE_URL="$url" "$bin" keys create --org "Metropolitan Police Service" --role requester --name "bench" 2>/dev/null)

# The rate limiter runs but is set wide open: this measures its cost, not its refusals. Exhibits go to a directory
# of the bench's own, emptied each run (each run uploads 2 GiB; they used to pile up in make run's .data/evidence).
rm -rf "$root/.data/bench/evidence"
SIGHTLINE_EVIDENCE_DIR="$root/.data/bench/evidence" \
SIGHTLINE_DATABASE_URL="$server_url" SIGHTLINE_HTTP_PORT=$http_port SIGHTLINE_LOG_LEVEL=warning SIGHTLINE_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8 \
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

# 6. POST /v1/evidence-requests: a random point in central London, radius 70 m (about eight synthetic cameras,
#    held by the borough they stand in) plus two named cameras of TfL and BTP: about ten cameras, three holders.
#    Throughput with 16 connections, then latency at half that rate; beside pgbench running the same
#    transaction (the same statements, with the plan's rows written literally).
psql -X -q "$url" <<'SQL'
INSERT INTO cameras (owner_org_id, kind, location, external_ref, max_dori)
SELECT sightline_reference_id(o), 'fixed', ST_SetSRID(ST_MakePoint(-0.1, 51.5), 4326)::geography, 'bench-' || o, 'identify'
FROM unnest(ARRAY['TfL', 'BTP']) AS o
ON CONFLICT DO NOTHING;
SQL
named=$(psql -X -tA "$url" -c "SELECT string_agg('\"' || id || '\"', ',' ORDER BY external_ref) FROM cameras WHERE external_ref IN ('bench-TfL', 'bench-BTP')")
window_to=$(date -u -d '2 days ago' +%Y-%m-%dT%H:00:00Z)
window_from=$(date -u -d '2 days ago 1 hour ago' +%Y-%m-%dT%H:00:00Z)
evidence_lua="$root/.data/bench/evidence.lua"
cat >"$evidence_lua" <<LUA
local key = "$key"
-- Open-loop pacing: each thread sends at BENCH_THREAD_RATE requests a second (0: as fast as it can), on a
-- schedule kept with the monotonic clock, so a slow response does not lower the rate offered afterwards.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *now);
]]
local clock = ffi.new("bench_timespec")
local function now_ms() ffi.C.clock_gettime(1, clock); return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6 end
local rate = tonumber(os.getenv("BENCH_THREAD_RATE") or "0")
local interval = rate > 0 and 1000 / rate or 0
local next_slot = 0
math.randomseed(4712)
request = function()
    local lat = 51.49 + math.random() * 0.04
    local lon = -0.16 + math.random() * 0.10
    local body = string.format('{"crime_reference": "CRIS bench", "offence": "robbery", "priority": "urgent", "authorised_by": "DS Bench", '
        .. '"requester_contact": {"name": "DC Bench", "phone": "020 7230 1212"}, '
        .. '"location": {"lat": %.5f, "lon": %.5f}, "radius_m": 70, "window_from": "$window_from", "window_to": "$window_to", '
        .. '"camera_ids": [$named]}', lat, lon)
    return wrk.format("POST", "/v1/evidence-requests", { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end
delay = function()
    if interval == 0 then return 0 end
    local now = now_ms()
    if next_slot < now - interval then next_slot = now end  -- fallen behind: go on from now rather than burst
    local slot = next_slot
    next_slot = next_slot + interval
    return math.max(0, slot - now)
end
LUA
evidence_http() {  # connections, offered req/s (0: as many as answered) → "p50 p99 req/s non-2xx"
    local out
    out=$(BENCH_THREAD_RATE=$(awk -v r="$2" 'BEGIN { print r / 2 }') wrk -t2 -c"$1" -d"${seconds}s" --latency -s "$evidence_lua" "http://127.0.0.1:$http_port")
    echo "$(echo "$out" | awk '$1 == "50%" {print $2}' | to_ms) $(echo "$out" | awk '$1 == "99%" {print $2}' | to_ms)" \
        "$(round "$(echo "$out" | awk '/Requests\/sec/ {print $2}')") $(echo "$out" | awk '/Non-2xx/ {print $NF}' | grep . || echo 0)"
}
evidence_sql="$root/.data/bench/evidence.sql"
mps=$(psql -X -tA "$url" -c "SELECT sightline_reference_id('MPS')")
cat >"$evidence_sql" <<SQL
\set lat random(514900, 515300)
\set lon random(-1600, -600)
BEGIN;
SELECT c.id, c.owner_org_id, c.control_room_id, r.operator_org_id, c.covert,
       timestamptz '$window_from' + make_interval(days => coalesce(c.retention_days, r.default_retention_days, 31)),
       c.status <> 'planned'
FROM cameras c LEFT JOIN control_rooms r ON r.id = c.control_room_id
WHERE NOT c.covert AND (c.id = ANY (ARRAY[$(echo "$named" | tr '"' "'")]::uuid[])
   OR (ST_DWithin(c.location, ST_SetSRID(ST_MakePoint(:lon / 10000.0, :lat / 10000.0), 4326)::geography, 70) AND c.status <> 'planned'
       AND (c.commissioned_on IS NULL OR c.commissioned_on <= current_date) AND (c.decommissioned_on IS NULL OR c.decommissioned_on >= current_date - 3)));
INSERT INTO evidence_requests (reference, requester_org_id, crime_reference, offence, priority, legal_basis, authorised_by, location, radius_m,
                               window_from, window_to, status)
VALUES (evidence_reference(now()), '$mps', 'CRIS bench', 'robbery', 'urgent', 'DPA 2018 Sch. 2 Pt. 1 para. 2', 'DS Bench',
        ST_SetSRID(ST_MakePoint(:lon / 10000.0, :lat / 10000.0), 4326)::geography, 70, '$window_from', '$window_to', 'open')
RETURNING id AS request_id, reference \gset
WITH tasks AS (
    INSERT INTO evidence_tasks (request_id, requester_org_id, holder_org_id, priority, ack_due_at, export_due_at, overwrite_at, at_risk)
    SELECT :request_id::uuid, '$mps', o, 'urgent', now() + interval '1 hour', now() + interval '1 day', now() + interval '29 days', false
    FROM unnest(ARRAY[sightline_reference_id('TfL'), sightline_reference_id('BTP'), sightline_reference_id('E09000033')]) AS o
    RETURNING id
), cameras AS (
    INSERT INTO evidence_task_cameras (task_id, camera_id, overwrite_at)
    SELECT t.id, c.id, now() + interval '29 days' FROM tasks t CROSS JOIN LATERAL (SELECT id FROM cameras ORDER BY id LIMIT 3 OFFSET 0) c
)
INSERT INTO events (type, subject, sequence, audience, payload)
SELECT 'evidence_task.created', 'evidence_task/' || id, 1, ARRAY['$mps'::uuid], jsonb_build_object('id', id, 'version', 1, 'reference', :reference::text)
FROM tasks
UNION ALL SELECT 'evidence_request.created', 'evidence_request/' || :request_id::text, 1, ARRAY['$mps'::uuid], jsonb_build_object('reference', :reference::text);
SELECT audit_record('benchbenchbe', '$mps'::uuid, 'evidence_request.create', 'evidence_request', :request_id::text, 'success', '127.0.0.1', 'r', '{}');
COMMIT;
SQL
wrk -t2 -c4 -d3s -s "$evidence_lua" "http://127.0.0.1:$http_port" >/dev/null
read -r ev_p50 ev_p99 ev_rps ev_errors <<<"$(evidence_http 16 0)"
# Half the target rate (250/s), offered on a fixed schedule by 8 connections (enough to absorb a slow response or two).
ev_half=250
read -r evh_p50 evh_p99 evh_rps evh_errors <<<"$(evidence_http 8 "$ev_half")"
ev_pg_out=$("$pg_bin/pgbench" -n -M extended -c 16 -j 2 -T "$seconds" -f "$evidence_sql" "$server_url" 2>&1)
ev_pg_tps=$(round "$(echo "$ev_pg_out" | awk '/^tps/ {print $3}')")
ev_cameras=$(psql -X -tA "$url" -c "SELECT round(avg(n), 1) FROM (SELECT count(*) AS n FROM evidence_tasks t JOIN evidence_task_cameras c ON c.task_id = t.id
    JOIN evidence_requests q ON q.id = t.request_id WHERE q.authorised_by = 'DS Bench' AND q.requester_key_id IS NOT NULL GROUP BY q.id) s")
ev_holders=$(psql -X -tA "$url" -c "SELECT round(avg(n), 1) FROM (SELECT count(*) AS n FROM evidence_tasks t JOIN evidence_requests q ON q.id = t.request_id
    WHERE q.authorised_by = 'DS Bench' AND q.requester_key_id IS NOT NULL GROUP BY q.id) s")

# 6b. The queue of an operator with 1,000 open tasks: Bromley's room (no synthetic request above reaches Bromley).
bromley=$(psql -X -tA "$url" -c "SELECT sightline_reference_id('E09000006')")
psql -X -q "$url" <<SQL
WITH requests AS (
    INSERT INTO evidence_requests (reference, requester_org_id, crime_reference, offence, priority, legal_basis, authorised_by, location,
                                   radius_m, window_from, window_to, status, contact_name, contact_phone, notes)
    SELECT evidence_reference(now()), '$mps', 'CRIS queue ' || n, 'robbery', CASE WHEN n % 5 = 0 THEN 'urgent' ELSE 'standard' END,
           'DPA 2018 Sch. 2 Pt. 1 para. 2', 'DS Bench', ST_SetSRID(ST_MakePoint(0.0148, 51.4039), 4326)::geography, 100,
           now() - interval '3 days', now() - interval '3 days' + interval '1 hour', 'open', 'DC Bench', '020 7230 1212',
           'Suspect seen leaving towards the station.'
    FROM generate_series(1, 1000) AS n
    RETURNING id, priority
), tasks AS (
    INSERT INTO evidence_tasks (request_id, requester_org_id, holder_org_id, control_room_id, status, priority, ack_due_at, export_due_at,
                                overwrite_at, at_risk, escalation_level)
    SELECT r.id, '$mps', '$bromley', (SELECT id FROM control_rooms WHERE operator_org_id = '$bromley' ORDER BY id LIMIT 1),
           CASE WHEN random() < 0.5 THEN 'pending' ELSE 'acknowledged' END, r.priority, now() + random() * interval '2 days',
           now() + random() * interval '7 days', now() + interval '28 days', random() < 0.1, floor(random() * 3)::int
    FROM requests r
    RETURNING id
)
INSERT INTO evidence_task_cameras (task_id, camera_id, overwrite_at)
SELECT t.id, c.id, now() + interval '28 days'
FROM tasks t CROSS JOIN LATERAL (SELECT id FROM cameras WHERE borough_gss = 'E09000006' AND t.id IS NOT NULL
                                 ORDER BY id LIMIT 3 OFFSET abs(hashtext(t.id::text)) % 500) AS c;
ANALYZE evidence_tasks, evidence_task_cameras;
SQL
queue_open=$(psql -X -tA "$url" -c "SELECT count(*) FROM evidence_tasks WHERE holder_org_id = '$bromley' AND status IN ('pending', 'acknowledged')")
queue_key=$(SIGHTLINE_DATABASE_URL="$url" "$bin" keys create --org E09000006 --role operator --name "bench queue" 2>/dev/null)
wrk -t2 -c8 -d3s -H "Authorization: Bearer $queue_key" "http://127.0.0.1:$http_port/v1/evidence-tasks" >/dev/null
queue_out=$(wrk -t2 -c8 -d"${seconds}s" --latency -H "Authorization: Bearer $queue_key" "http://127.0.0.1:$http_port/v1/evidence-tasks")
queue_p50=$(echo "$queue_out" | awk '$1 == "50%" {print $2}' | to_ms)
queue_p99=$(echo "$queue_out" | awk '$1 == "99%" {print $2}' | to_ms)
queue_rps=$(round "$(echo "$queue_out" | awk '/Requests\/sec/ {print $2}')")
queue_errors=$(echo "$queue_out" | awk '/Non-2xx/ {print $NF}' | grep . || echo 0)
# The same page in the database alone: the queue's first 51 tasks, and their cameras (the two statements a page runs).
queue_sql="$root/.data/bench/queue.sql"
cat >"$queue_sql" <<SQL
SELECT t.id INTO TEMP page FROM evidence_tasks t JOIN evidence_requests q ON q.id = t.request_id
WHERE (t.requester_org_id = '$bromley' OR t.holder_org_id = '$bromley') AND NOT t.covert
ORDER BY (CASE WHEN t.status IN ('pending', 'acknowledged') THEN (CASE WHEN t.at_risk THEN 0 ELSE 1 END) ELSE 2 END), -t.escalation_level,
         extract(epoch FROM CASE t.status WHEN 'pending' THEN t.ack_due_at WHEN 'acknowledged' THEN t.export_due_at ELSE t.created_at END), t.id
LIMIT 51;
SELECT x.task_id, c.external_ref, c.kind, ST_Y(c.location::geometry), ST_X(c.location::geometry)
FROM evidence_task_cameras x JOIN cameras c ON c.id = x.camera_id WHERE x.task_id IN (SELECT id FROM page);
DROP TABLE page;
SQL
queue_pg_out=$("$pg_bin/pgbench" -n -M extended -c 8 -j 2 -T "$seconds" -f "$queue_sql" "$server_url" 2>&1)
queue_pg_tps=$(round "$(echo "$queue_pg_out" | awk '/^tps/ {print $3}')")
queue_pg_ms=$(echo "$queue_pg_out" | awk '/^latency average/ {print $4}')
SIGHTLINE_DATABASE_URL="$url" "$bin" keys revoke "${queue_key:8:12}" >/dev/null 2>&1 || true

# 6c. Shared-room proposals: the appraisal of a 10-room proposal over 60 years, p50/p99 with 8 connections beside
#    the database alone (pgbench running the appraisal's two statements); then the same proposal taken through its
#    workflow and implemented, moving 20,000 cameras from nine rooms into the host: seconds, and the events written.
#    The rooms, cameras and proposal are made for the run and removed at the start of the next.
psql -X -q -v ON_ERROR_STOP=1 "$url" <<'SQL'
WITH rooms AS (
    INSERT INTO control_rooms (operator_org_id, name, operator_positions, annual_cost_pence, staff_fte, costs_reviewed_on)
    SELECT b.organisation_id, 'Bench: room ' || n, 3 + n % 5, (60000000 + n * 7000000)::bigint, 12 + n, current_date
    FROM generate_series(1, 10) AS n JOIN boroughs b ON b.gss_code = 'E090000' || lpad(n::text, 2, '0')
    RETURNING id, name
), served AS (
    INSERT INTO control_room_boroughs (control_room_id, gss_code)
    SELECT r.id, 'E090000' || lpad(substring(r.name FROM '[0-9]+$'), 2, '0') FROM rooms r RETURNING control_room_id
)
SELECT count(*) FROM served;
-- 20,000 cameras in rooms 2 to 10 (the nine the host absorbs), at points in central London.
INSERT INTO cameras (owner_org_id, control_room_id, kind, location, borough_gss, status)
SELECT r.operator_org_id, r.id, 'fixed', ST_SetSRID(ST_MakePoint(-0.2 + random() * 0.2, 51.45 + random() * 0.1), 4326)::geography,
       'E09000033', 'operational'
FROM generate_series(1, 20000) AS n
JOIN LATERAL (SELECT id, operator_org_id FROM control_rooms WHERE name = 'Bench: room ' || (2 + n % 9)) r ON true;
-- As autovacuum would leave a table that changes little: its visibility map set, so rooms count by index alone.
VACUUM ANALYZE cameras, control_rooms;
SQL
planner_key=$(SIGHTLINE_DATABASE_URL="$url" "$bin" keys create --org "Mayor's Office for Policing and Crime" --role planner --name "bench planner" 2>/dev/null)
bench_rooms=$(psql -X -tA "$url" -c "SELECT string_agg('\"' || id || '\"', ', ' ORDER BY substring(name FROM '[0-9]+\$')::int) FROM control_rooms WHERE name LIKE 'Bench: room %'")
bench_host=$(psql -X -tA "$url" -c "SELECT id FROM control_rooms WHERE name = 'Bench: room 1'")
planner_call() {  # method path [body] [if-match] → the response body
    curl -s -X "$1" -H "Authorization: Bearer $planner_key" -H "Content-Type: application/json" ${4:+-H "If-Match: \"$4\""} \
        "http://127.0.0.1:$http_port$2" ${3:+-d "$3"}
}
proposal_id=$(planner_call POST /v1/proposals "{\"title\": \"Bench: ten rooms share one\", \"control_room_ids\": [$bench_rooms],
    \"host\": {\"control_room_id\": \"$bench_host\", \"operator_positions\": 20}, \"parameters\": {\"years\": 60},
    \"one_off_costs_pence\": {\"fit_out\": 90000000, \"network\": 40000000, \"migration\": 25000000, \"staff_transition\": 30000000},
    \"proposed_annual_cost_pence\": 700000000}" | jq -r .id)
appraisal_path="/v1/proposals/$proposal_id/appraisal"
wrk -t2 -c8 -d3s -H "Authorization: Bearer $planner_key" "http://127.0.0.1:$http_port$appraisal_path" >/dev/null
appraisal_out=$(wrk -t2 -c8 -d"${seconds}s" --latency -H "Authorization: Bearer $planner_key" "http://127.0.0.1:$http_port$appraisal_path")
appraisal_p50=$(echo "$appraisal_out" | awk '$1 == "50%" {print $2}' | to_ms)
appraisal_p99=$(echo "$appraisal_out" | awk '$1 == "99%" {print $2}' | to_ms)
appraisal_rps=$(round "$(echo "$appraisal_out" | awk '/Requests\/sec/ {print $2}')")
appraisal_errors=$(echo "$appraisal_out" | awk '/Non-2xx/ {print $NF}' | grep . || echo 0)
appraisal_years=$(planner_call GET "$appraisal_path" | jq '.years | length')
# The same facts in the database alone: the proposal as stored, and its rooms' costs with their cameras counted.
appraisal_sql="$root/.data/bench/appraisal.sql"
cat >"$appraisal_sql" <<SQL
SELECT p.*, ARRAY(SELECT control_room_id FROM proposal_rooms WHERE proposal_id = p.id ORDER BY position) FROM proposals p WHERE p.id = '$proposal_id';
SELECT r.id, r.name, r.annual_cost_pence, r.operator_positions, r.staff_fte, r.costs_reviewed_on,
       (SELECT count(*) FROM cameras c WHERE c.control_room_id = r.id AND NOT c.covert AND c.status IN ('operational', 'faulty')),
       ARRAY(SELECT b.gss_code FROM control_room_boroughs b WHERE b.control_room_id = r.id)
FROM control_rooms r JOIN proposal_rooms pr ON pr.control_room_id = r.id WHERE pr.proposal_id = '$proposal_id';
SQL
appraisal_pg_out=$("$pg_bin/pgbench" -n -M extended -c 8 -j 2 -T "$seconds" -f "$appraisal_sql" "$server_url" 2>&1)
appraisal_pg_tps=$(round "$(echo "$appraisal_pg_out" | awk '/^tps/ {print $3}')")
appraisal_pg_ms=$(echo "$appraisal_pg_out" | awk '/^latency average/ {print $4}')
# Through its workflow (the planner submits without positions, giving a reason), then implemented.
planner_call POST "/v1/proposals/$proposal_id/transitions" '{"action": "open_consultation"}' 1 >/dev/null
planner_call POST "/v1/proposals/$proposal_id/transitions" '{"action": "submit", "override_reason": "bench"}' 2 >/dev/null
planner_call POST "/v1/proposals/$proposal_id/decision" '{"outcome": "approved", "reference": "PCD 167", "text": "bench"}' 3 >/dev/null
planner_call POST "/v1/proposals/$proposal_id/transitions" '{"action": "start_implementation"}' 4 >/dev/null
events_before=$(psql -X -tA "$url" -c "SELECT count(*) FROM events")
implement_out=$(curl -s -o "$root/.data/bench/implemented.json" -w '%{http_code} %{time_total}' -X POST -H "Authorization: Bearer $planner_key" \
    -H "Content-Type: application/json" -H 'If-Match: "5"' "http://127.0.0.1:$http_port/v1/proposals/$proposal_id/transitions" \
    -d '{"action": "complete_implementation"}')
read -r implement_code implement_seconds <<<"$implement_out"
implement_events=$(($(psql -X -tA "$url" -c "SELECT count(*) FROM events") - events_before))
implement_moved=$(psql -X -tA "$url" -c "SELECT payload->>'cameras_moved' FROM events WHERE type = 'proposal.implemented' AND subject = 'proposal/$proposal_id'")
SIGHTLINE_DATABASE_URL="$url" "$bin" keys revoke "${planner_key:8:12}" >/dev/null 2>&1 || true

# 6d. Nightly reports: every organisation's reports (and London's) of the last full day of the synthetic history,
#    built by `sightline reports build` as the application's database role, three times (the day's reports deleted
#    before each): seconds and the building process's peak memory. Then one HTML report (London's, the largest) fetched
#    with 8 connections beside the same report as JSON and its row read in the database alone, and the server's
#    peak memory before and after.
report_day=$(psql -X -tA "$url" -c "SELECT ((max(created_at) AT TIME ZONE 'Europe/London')::date - 1)::text FROM evidence_requests WHERE authorised_by = 'Synthetic history'")
report_seconds=()
report_kib=()
for _ in 1 2 3; do
    psql -X -q "$url" -c "DELETE FROM reports WHERE report_date = '$report_day'"
    timing=$({ /usr/bin/time -f "%e %M" env SIGHTLINE_DATABASE_URL="$server_url" SIGHTLINE_LOG_LEVEL=warning "$bin" reports build --date "$report_day" \
        >"$root/.data/bench/reports-build.txt"; } 2>&1 | tail -1)
    report_seconds+=("${timing% *}")
    report_kib+=("${timing#* }")
done
report_median=$(printf '%s\n' "${report_seconds[@]}" | sort -n | sed -n 2p)
report_built=$(head -1 "$root/.data/bench/reports-build.txt" | awk '{print $2}')
report_activity=$(psql -X -tA "$url" -c "SELECT (content->'london'->'requests'->>'made') || ' requests, ' || (content->'london'->'tasks'->>'received') || ' tasks' FROM reports WHERE report_date = '$report_day' AND kind = 'london'")
reports_key=$(SIGHTLINE_DATABASE_URL="$url" "$bin" keys create --org "Mayor's Office for Policing and Crime" --role planner --name "bench reports" 2>/dev/null)
london_report=$(psql -X -tA "$url" -c "SELECT id FROM reports WHERE report_date = '$report_day' AND kind = 'london'")
report_path="/v1/reports/$london_report"
html_bytes=$(curl -s -H "Authorization: Bearer $reports_key" -H "Accept: text/html" "http://127.0.0.1:$http_port$report_path" | wc -c)
html_hwm_before=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
report_wrk() {  # accept → "p50 p99 req/s non-2xx"
    local out
    out=$(wrk -t2 -c8 -d"${seconds}s" --latency -H "Authorization: Bearer $reports_key" -H "Accept: $1" "http://127.0.0.1:$http_port$report_path")
    echo "$(echo "$out" | awk '$1 == "50%" {print $2}' | to_ms) $(echo "$out" | awk '$1 == "99%" {print $2}' | to_ms)" \
        "$(round "$(echo "$out" | awk '/Requests\/sec/ {print $2}')") $(echo "$out" | awk '/Non-2xx/ {print $NF}' | grep . || echo 0)"
}
wrk -t2 -c8 -d3s -H "Authorization: Bearer $reports_key" -H "Accept: text/html" "http://127.0.0.1:$http_port$report_path" >/dev/null
read -r html_p50 html_p99 html_rps html_errors <<<"$(report_wrk text/html)"
read -r json_p50 json_p99 json_rps json_errors <<<"$(report_wrk application/json)"
html_hwm_after=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
html_rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
echo "SELECT id, organisation_id, kind, report_date, created_at, content FROM reports WHERE id = '$london_report';" >"$root/.data/bench/report.sql"
report_pg_out=$("$pg_bin/pgbench" -n -M extended -c 8 -j 2 -T "$seconds" -f "$root/.data/bench/report.sql" "$server_url" 2>&1)
report_pg_tps=$(round "$(echo "$report_pg_out" | awk '/^tps/ {print $3}')")
SIGHTLINE_DATABASE_URL="$url" "$bin" keys revoke "${reports_key:8:12}" >/dev/null 2>&1 || true

# 7. A 2 GiB exhibit uploaded and downloaded through HTTP (curl), with the server's peak memory before and after.
big="$root/.data/bench/exhibit.bin"
[ -f "$big" ] || head -c $((2 << 30)) /dev/urandom >"$big"
big_sha=$(sha256sum "$big" | cut -d' ' -f1)
big_size=$(stat -c %s "$big")
holder_key=$(SIGHTLINE_DATABASE_URL="$url" "$bin" keys create --org "Transport for London" --role operator --name "bench holder" 2>/dev/null)
request_json=$(curl -s -H "Authorization: Bearer $key" -H "Content-Type: application/json" "http://127.0.0.1:$http_port/v1/evidence-requests" \
    -d "{\"crime_reference\": \"CRIS big\", \"offence\": \"robbery\", \"priority\": \"urgent\", \"authorised_by\": \"DS Bench\", \"requester_contact\": {\"name\": \"DC Bench\", \"phone\": \"020 7230 1212\"}, \"location\": {\"lat\": 51.5, \"lon\": -0.1}, \"radius_m\": 1, \"window_from\": \"$window_from\", \"window_to\": \"$window_to\", \"camera_ids\": [$named]}")
task_id=$(echo "$request_json" | python3 -c "import json,sys; r=json.load(sys.stdin); print([t['id'] for t in r['tasks'] if t['holder_org_id']=='$(psql -X -tA "$url" -c "SELECT sightline_reference_id('TfL')")'][0])")
curl -s -o /dev/null -H "Authorization: Bearer $holder_key" -H "Content-Type: application/json" -H 'If-Match: "1"' \
    "http://127.0.0.1:$http_port/v1/evidence-tasks/$task_id/transitions" -d '{"action": "acknowledge"}'
person=(-H "Sightline-Person: BENCH-1 Bench Person")  # custody names the person who moves an exhibit
item_id=$(curl -s -H "Authorization: Bearer $holder_key" "${person[@]}" -H "Content-Type: application/json" "http://127.0.0.1:$http_port/v1/evidence-tasks/$task_id/items" \
    -d "{\"exhibit_ref\": \"BENCH/$(date +%s)\", \"file_name\": \"exhibit.bin\", \"format\": \"bin\", \"size_bytes\": $big_size, \"sha256\": \"$big_sha\", \"recorded_from\": \"$window_from\", \"recorded_to\": \"$window_to\"}" |
    python3 -c "import json,sys; print(json.load(sys.stdin)['id'])")
up_hwm_before=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
up_out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -T "$big" -H "Authorization: Bearer $holder_key" "${person[@]}" -H "Content-Type: application/octet-stream" \
    "http://127.0.0.1:$http_port/v1/evidence-items/$item_id/content")
up_hwm_after=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
down_out=$(curl -s -o /dev/null -w '%{http_code} %{time_total} %{size_download}' -H "Authorization: Bearer $key" "${person[@]}" \
    "http://127.0.0.1:$http_port/v1/evidence-items/$item_id/content")
down_hwm_after=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
read -r up_code up_time <<<"$up_out"
read -r down_code down_time down_bytes <<<"$down_out"
disk_out=$( { TIMEFORMAT=%R; time cat "$big" >/dev/null; } 2>&1 )

# The upload left 2 GiB for the kernel to write back; let it finish, so that the webhooks' commits do not wait on it.
sync

# 8. Webhooks. A receiver in Python (asyncio, keep-alive, 204 to everything) logs each webhook-id with its arrival.
receiver_py="$root/.data/bench/receiver.py"
cat >"$receiver_py" <<'PY'
import asyncio, sys, time
log = open(sys.argv[2], "a", buffering=1)  # appending: the script empties it between phases
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length, hook = 0, b"-"
            for line in head.split(b"\r\n"):
                name = line.lower()
                if name.startswith(b"content-length:"): length = int(line.split(b":")[1])
                elif name.startswith(b"webhook-id:"): hook = line.split(b":", 1)[1].strip()
            if length: await reader.readexactly(length)
            log.write("%s %.6f\n" % (hook.decode(), time.time()))
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY
receiver_port=$((http_port + 10))
receiver_log="$root/.data/bench/receiver.log"
python3 "$receiver_py" "$receiver_port" "$receiver_log" &
receiver=$!
sleep 0.5
# The receiver's own ceiling, from wrk posting a webhook-sized body with 8 connections.
receiver_rps=$(round "$(wrk -t2 -c8 -d3s -s <(echo 'wrk.method = "POST"; wrk.body = string.rep("x", 200)') "http://127.0.0.1:$receiver_port/" | awk '/Requests\/sec/ {print $2}')")
: >"$receiver_log"
mopac=$(psql -X -tA "$url" -c "SELECT sightline_reference_id('MOPAC')")
psql -X -q "$url" -c "DELETE FROM webhook_endpoints WHERE url LIKE 'http://127.0.0.1:$receiver_port/%'" \
    -c "INSERT INTO webhook_endpoints (organisation_id, url, secret)
        SELECT '$mopac', 'http://127.0.0.1:$receiver_port/throughput/' || n, 'whsec_' || encode(sha256(random()::text::bytea), 'base64')
        FROM generate_series(1, 4) n"
hooks_events=${BENCH_WEBHOOK_EVENTS:-5000}
hooks_total=$((hooks_events * 4))
run_id=$(date +%s%N)
hooks_start=$(date +%s.%N)
psql -X -q "$url" -c "INSERT INTO events (type, subject, sequence, audience, payload)
    SELECT 'camera.updated', 'camera/bench-$run_id-' || g, 1, ARRAY['$mopac'::uuid], jsonb_build_object('id', 'bench-' || g, 'version', 1)
    FROM generate_series(1, $hooks_events) g" -c "NOTIFY sightline_webhooks"
for _ in $(seq 1 1200); do
    [ "$(wc -l <"$receiver_log")" -ge "$hooks_total" ] && break
    sleep 0.1
done
hooks_received=$(wc -l <"$receiver_log")
hooks_seconds=$(awk -v a="$hooks_start" -v b="$(tail -1 "$receiver_log" | cut -d' ' -f2)" 'BEGIN { printf "%.2f", b - a }')
hooks_rate=$(awk -v n="$hooks_received" -v t="$hooks_seconds" 'BEGIN { printf "%.0f", n / t }')

# Idle latency: evidence requests made one at a time, 200 ms apart; each request's event's arrival minus its
# commit time. The endpoint takes only `evidence_request.created`: the scheduler's alerts about the requests
# earlier runs left in .data/bench (thousands at once, as their deadlines pass) would otherwise queue ahead.
psql -X -q "$url" -c "INSERT INTO webhook_endpoints (organisation_id, url, secret, event_types)
    VALUES ('$mps', 'http://127.0.0.1:$receiver_port/latency', 'whsec_' || encode(sha256(random()::text::bytea), 'base64'),
            '{evidence_request.created}')"
sleep 1.5
: >"$receiver_log"
latency_start=$(psql -X -tA "$url" -c "SELECT now()")
latency_refused=0
for _ in $(seq 1 ${BENCH_LATENCY_REQUESTS:-40}); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" -H "Content-Type: application/json" \
        "http://127.0.0.1:$http_port/v1/evidence-requests" \
        -d "{\"crime_reference\": \"CRIS bench\", \"offence\": \"robbery\", \"priority\": \"urgent\", \"authorised_by\": \"DS Bench\",
             \"requester_contact\": {\"name\": \"DC Bench\", \"phone\": \"020 7230 1212\"},
             \"location\": {\"lat\": 51.5, \"lon\": -0.1}, \"radius_m\": 50, \"window_from\": \"$window_from\", \"window_to\": \"$window_to\",
             \"camera_ids\": [$named]}")
    [ "$code" = 201 ] || latency_refused=$((latency_refused + 1))
    sleep 0.2
done
sleep 1
psql -X -tA -F' ' "$url" -c "SELECT id, extract(epoch FROM created_at) FROM events WHERE created_at >= '$latency_start' AND type = 'evidence_request.created'" >"$root/.data/bench/latency-events.txt"
read -r latency_n latency_p50 latency_p99 <<<"$(python3 - "$root/.data/bench/latency-events.txt" "$receiver_log" <<'PY'
import sys
created = dict(line.split() for line in open(sys.argv[1]) if line.strip())
waits = sorted((float(t) - float(created[i])) * 1000 for i, t in (l.split() for l in open(sys.argv[2]) if l.strip()) if i in created)
pick = lambda q: waits[min(len(waits) - 1, int(q * len(waits)))] if waits else float("nan")
print(len(waits), "%.1f" % pick(0.5), "%.1f" % pick(0.99))
PY
)"
kill $receiver 2>/dev/null || true
psql -X -q "$url" -c "DELETE FROM webhook_endpoints WHERE url LIKE 'http://127.0.0.1:$receiver_port/%'"
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
mib_s() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.0f", b / 1048576 / t }'; }
echo "evidence requests (about $ev_cameras cameras, $ev_holders holders each; urgent):"
printf '%-62s %12s %12s %7s %s\n' "  POST /v1/evidence-requests req/s, 16 conns (baseline: pgbench)" "$ev_rps" "$ev_pg_tps" "$(ratio "$ev_rps" "$ev_pg_tps")" "≥ 500 ($(verdict "$ev_rps" 500))"
printf '%-62s %s\n' "    p50 / p99 ms, non-2xx" "$ev_p50 / $ev_p99, $ev_errors"
printf '%-62s %12s %12s %7s %s\n' "  p99 ms at half that rate ($ev_half req/s offered, $evh_rps answered)" "$evh_p99" "-" "-" "≤ 50 ($(verdict 50 "$evh_p99"))"
printf '%-62s %12s %12s %7s %s\n' "2 GiB upload: MiB/s (HTTP $up_code; baseline: reading the file)" "$(mib_s "$big_size" "$up_time")" "$(mib_s "$big_size" "$disk_out")" "-" "-"
printf '%-62s %12s %12s %7s %s\n' "2 GiB download: MiB/s (HTTP $down_code, $((down_bytes / 1048576)) MiB)" "$(mib_s "$down_bytes" "$down_time")" "-" "-" "-"
printf '%-62s %12s %12s %7s %s\n' "  server peak memory after upload / download (baseline: before) (MiB)" "$((up_hwm_after / 1024)) / $((down_hwm_after / 1024))" "$((up_hwm_before / 1024))" "-" "constant ($(awk -v a="$down_hwm_after" -v b="$up_hwm_before" 'BEGIN { print (a - b < 32768) ? "meets" : "MISSES" }'): under 32 MiB more)"
printf '%-62s %12s %12s %7s %s\n' "GET /v1/evidence-tasks, $queue_open open tasks, 8 conns: req/s (baseline: pgbench)" "$queue_rps" "$queue_pg_tps" "$(ratio "$queue_rps" "$queue_pg_tps")" "-"
printf '%-62s %s\n' "    HTTP p50 / p99 ms, non-2xx; database mean ms" "$queue_p50 / $queue_p99, $queue_errors; $queue_pg_ms"
echo "shared-room proposals (a proposal of 10 rooms, appraised over $appraisal_years years):"
printf '%-62s %12s %12s %7s %s\n' "  GET /v1/proposals/{id}/appraisal p99 ms, 8 conns (baseline: db mean)" "$appraisal_p99" "$appraisal_pg_ms" "-" "-"
printf '%-62s %s\n' "    HTTP p50 / p99 ms, req/s, non-2xx; database q/s" "$appraisal_p50 / $appraisal_p99, $appraisal_rps, $appraisal_errors; $appraisal_pg_tps"
printf '%-62s %12s %12s %7s %s\n' "  implementing it: seconds to move ${implement_moved:-?} cameras (HTTP $implement_code)" "$implement_seconds" "-" "-" "$implement_events events written"
echo "nightly reports (a synthetic history of $history_have requests, $history_tasks tasks in all, over a year $history_note):"
printf '%-62s %12s %12s %7s %s\n' "  every organisation's reports of $report_day: seconds (median of 3)" "$report_median" "-" "-" "≤ 60 ($(verdict 60 "$report_median"))"
printf '%-62s %s\n' "    runs (s); reports built; the day's activity" "${report_seconds[*]}; $report_built; $report_activity"
printf '%-62s %s\n' "    peak memory of the building process (MiB)" "$(for k in "${report_kib[@]}"; do printf '%s ' $((k / 1024)); done)"
printf '%-62s %12s %12s %7s %s\n' "  GET London's report as HTML ($((html_bytes / 1024)) KiB) p99 ms, 8 conns (baseline: JSON)" "$html_p99" "$json_p99" "-" "-"
printf '%-62s %s\n' "    HTML p50 / p99, req/s, non-2xx; JSON p50 / p99, req/s; database q/s" "$html_p50 / $html_p99, $html_rps, $html_errors; $json_p50 / $json_p99, $json_rps; $report_pg_tps"
printf '%-62s %12s %12s %7s %s\n' "  server peak memory after the report fetches (baseline: before) (MiB)" "$((html_hwm_after / 1024))" "$((html_hwm_before / 1024))" "-" "resident after: $((html_rss_after / 1024))"
echo "webhooks (a Python asyncio receiver on loopback; the dispatcher in the server above):"
printf '%-62s %12s %12s %7s %s\n' "  deliveries/s, $hooks_received of $hooks_total to 4 endpoints (baseline: receiver under wrk)" "$hooks_rate" "$receiver_rps" "$(ratio "$hooks_rate" "$receiver_rps")" "≥ 1000 ($(verdict "$hooks_rate" 1000))"
printf '%-62s %12s %12s %7s %s\n' "  idle event-to-delivery ms, p50 ($latency_n events, p99 $latency_p99; $latency_refused non-201)" "$latency_p50" "-" "-" "≤ 100 ($(verdict 100 "$latency_p50"))"
echo
echo "baselines: pgbench -M extended -c $db_connections -j 2 running: $sql"
echo "           wrk -t2 -c$http_connections against Benchmarks/BenchServer (the same router without authentication)"
