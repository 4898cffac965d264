#!/usr/bin/env bash
# Runs a command against a throw-away PostgreSQL cluster of its own: initdb into a temp dir,
# pg_ctl on a free 127.0.0.1 port, QRLOGIN_TEST_DATABASE_URL exported, cluster stopped and removed
# on exit. Installs PostgreSQL (Debian package `postgresql`) when its binaries are missing.
#
#   scripts/pg-test.sh                      # the qrlogin-server test suite on PostgreSQL
#   scripts/pg-test.sh CMD ARGS...          # any command, e.g. the scale benchmark:
#   scripts/pg-test.sh cargo run --release -p qrlogin-server --all-features --example scale_bench
set -euo pipefail

cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}

find_pg_bin() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    # Debian keeps them out of PATH, one directory per major version; take the newest.
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$d" && -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
        echo "$d"
        return 0
    fi
    return 1
}

install_pg() {
    echo "pg-test: PostgreSQL binaries not found; installing the Debian package postgresql" >&2
    local sudo=()
    [[ $(id -u) -ne 0 ]] && sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y -q postgresql >/dev/null ||
        { "${sudo[@]}" apt-get update -q >/dev/null && "${sudo[@]}" apt-get install -y -q postgresql >/dev/null; }
}

PG_BIN=$(find_pg_bin) || { install_pg; PG_BIN=$(find_pg_bin); } || {
    echo "pg-test: no initdb/pg_ctl even after installing postgresql" >&2
    exit 1
}

# initdb and postgres refuse to run as root: run them as an unprivileged user owning the dir.
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
    if id postgres >/dev/null 2>&1; then pg_user=postgres; else pg_user=nobody; fi
    as_pg=(runuser -u "$pg_user" --)
fi

PGTMP=$(mktemp -d /tmp/qrlogin-pg.XXXXXX)
chmod 755 "$PGTMP"
[[ ${#as_pg[@]} -gt 0 ]] && chown "$pg_user" "$PGTMP"
PGDATA="$PGTMP/data"

cleanup() {
    local rc=$?
    if [[ -f "$PGDATA/postmaster.pid" ]]; then
        "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PGTMP"
    exit $rc
}
trap cleanup EXIT INT TERM

"${as_pg[@]}" "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --no-locale \
    >"$PGTMP/initdb.log" 2>&1 || { cat "$PGTMP/initdb.log" >&2; exit 1; }

port_in_use() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
    PORT=$((20000 + RANDOM % 30000))
    port_in_use "$PORT" && continue
    # A test cluster: durability off (it is deleted afterwards), enough connections for the
    # suite's parallel tests, each with its own database and a few pools.
    if "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGTMP/server.log" -w -t 30 start \
        -o "-k $PGTMP -h 127.0.0.1 -p $PORT -c fsync=off -c synchronous_commit=off \
            -c full_page_writes=off -c max_connections=300" >/dev/null; then
        started=1
        break
    fi
done
if [[ $started -ne 1 ]]; then
    echo "pg-test: PostgreSQL did not start; its log:" >&2
    cat "$PGTMP/server.log" >&2 || true
    exit 1
fi

export QRLOGIN_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
echo "pg-test: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT ($PGTMP)" >&2

if [[ $# -eq 0 ]]; then
    set -- "$CARGO" test -p qrlogin-server --all-features
fi
"$@"
