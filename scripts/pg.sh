#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for Sightline under .data/NAME, listening only on a Unix socket.
#
#   scripts/pg.sh start NAME PORT        start it (creating it the first time); prints the owner's database URL
#   scripts/pg.sh stop NAME              stop it, if running
#   scripts/pg.sh url NAME PORT [USER]   print the database URL for USER (default: the owner, sightline)
#
# PostgreSQL refuses to run as root, so as root the cluster belongs to the postgres user (runuser); a normal
# user owns their own. The superuser "sightline" owns the schema and runs migrations; the server connects as
# "sightline_server", a member of the grants-only role "sightline_app" (db/migrations/0005). Both are trusted
# on the socket only, which is private to the cluster.
set -euo pipefail

command=${1:?usage: pg.sh start|stop|url NAME [PORT]}
name=${2:?usage: pg.sh start|stop|url NAME [PORT]}
port=${3:-5432}
bin=${SIGHTLINE_PG_BIN:-/usr/lib/postgresql/15/bin}
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.data/$name"
data="$dir/pgdata"
socket="$dir/socket"
# A Unix socket path must fit in 107 bytes; a deep checkout falls back to a short directory under /tmp.
if [ $(( ${#socket} + 20 )) -gt 107 ]; then
    socket="/tmp/sightline-$(printf '%s' "$dir" | md5sum | cut -c1-12)"
fi

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { echo "postgresql:///sightline?host=$socket&port=$port&user=${1:-sightline}"; }

case "$command" in
start)
    mkdir -p "$dir" "$socket"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$dir" "$socket"
        if ! runuser -u postgres -- test -x "$dir"; then
            echo "pg.sh: the postgres user cannot reach $dir; check the permissions of its parent directories" >&2
            exit 1
        fi
    fi
    if [ ! -s "$data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$data" -U sightline --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
        cat >>"$data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$socket'
port = $port
max_connections = 300
shared_buffers = 256MB
CONF
        if [ "$name" = test ]; then
            # Test data is thrown away: durability only costs time.
            printf "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n" >>"$data/postgresql.conf"
        fi
    fi
    if ! as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$data" -l "$dir/postgresql.log" -w -t 60 start >/dev/null
    fi
    if ! psql -X -q -h "$socket" -p "$port" -U sightline -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'sightline'" | grep -q 1; then
        psql -X -q -h "$socket" -p "$port" -U sightline -d postgres -c "CREATE DATABASE sightline" >/dev/null
    fi
    psql -X -q -h "$socket" -p "$port" -U sightline -d postgres >/dev/null <<'SQL'
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sightline_app') THEN
        CREATE ROLE sightline_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sightline_server') THEN
        CREATE ROLE sightline_server LOGIN IN ROLE sightline_app;
    END IF;
END
$$;
SQL
    url
    ;;
stop)
    if [ -s "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$data" -w -m fast stop >/dev/null
        echo "stopped $name"
    fi
    ;;
url) url "${4:-}" ;;
*)
    echo "usage: pg.sh start|stop|url NAME [PORT]" >&2
    exit 2
    ;;
esac
