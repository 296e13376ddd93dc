#!/usr/bin/env bash
# Builds the `db` dataset: a real, cold MariaDB datadir filled by sysbench.
#
#   make_db.sh OUT_DIR TABLE_SIZE
#
# OUT_DIR/sqldata is the datadir (the directory the benchmark sends). The server runs
# only while filling it: --skip-networking (a socket in a private temp dir, no TCP port),
# then a clean shutdown so the copy is what a stopped replica's datadir looks like.
set -euo pipefail

out=${1:?usage: make_db.sh OUT_DIR TABLE_SIZE}
table_size=${2:?usage: make_db.sh OUT_DIR TABLE_SIZE}
datadir="$out/sqldata"
run="$out/.run"           # socket, pid file and logs; removed at the end
sock="$run/mysqld.sock"
pidfile="$run/mysqld.pid"
server_pid=""

log() { echo "make_db: $*" >&2; }

# However this script ends, the server it started must not outlive it.
stop_server() {
  [ -n "$server_pid" ] || return 0
  if kill -0 "$server_pid" 2>/dev/null; then
    timeout 120 mariadb-admin --no-defaults --socket="$sock" -uroot shutdown 2>/dev/null \
      || kill -TERM "$server_pid" 2>/dev/null || true
    # Bounded poll: a clean InnoDB shutdown flushes the buffer pool, which takes a moment.
    for _ in $(seq 600); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

wait_for() {  # wait_for SECONDS COMMAND...: poll until COMMAND succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@" > /dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || { log "timed out waiting for: $*"; return 1; }
    sleep 0.2
  done
}

rm -rf "$datadir" "$run"
mkdir -p "$datadir" "$run"
chown mysql:mysql "$datadir" "$run"

log "mariadb-install-db into $datadir"
timeout 300 mariadb-install-db --no-defaults --user=mysql --datadir="$datadir" \
  --skip-test-db > "$run/install.log" 2>&1 || { cat "$run/install.log" >&2; exit 1; }

# tmpfs has no O_DIRECT and may lack native AIO: ask InnoDB for plain buffered I/O,
# which is what it falls back to anyway. A 1 GiB buffer pool only speeds up the fill.
log "starting mariadbd (no networking, socket $sock)"
mariadbd --no-defaults --user=mysql --datadir="$datadir" --socket="$sock" \
  --pid-file="$pidfile" --skip-networking --log-error="$run/error.log" \
  --innodb-flush-method=fsync --innodb-use-native-aio=0 \
  --innodb-buffer-pool-size=1G &
server_pid=$!
wait_for 120 mariadb-admin --no-defaults --socket="$sock" -uroot ping \
  || { cat "$run/error.log" >&2; exit 1; }

log "sysbench oltp_read_write prepare: 4 tables x $table_size rows"
timeout 120 mariadb --no-defaults --socket="$sock" -uroot -e 'CREATE DATABASE sbtest'
timeout 3600 sysbench oltp_read_write --db-driver=mysql --mysql-socket="$sock" \
  --mysql-user=root --mysql-db=sbtest --tables=4 --table-size="$table_size" \
  --threads=2 prepare > "$run/sysbench.log"

log "clean shutdown"
stop_server
rm -rf "$run"
log "done: $(du -sh --apparent-size "$datadir" | cut -f1) in $datadir"
