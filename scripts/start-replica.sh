#!/usr/bin/env bash
# Starts a PostgreSQL streaming replica of the local cluster (127.0.0.1:5432) on 127.0.0.1:5433, for the
# read-replica test (test/read-replica.test.ts). Idempotent: when the replica already runs and is in
# recovery it only makes sure replay is not left paused (a test that died mid-way may have paused it).
# Debian/Ubuntu cluster tools (pg_createcluster, pg_ctlcluster); PostgreSQL's own binaries run as postgres.
set -euo pipefail

PRIMARY_PORT=5432
REPLICA_PORT=5433
VERSION="$(ls /etc/postgresql | head -n 1)"
MAIN_CONF="/etc/postgresql/${VERSION}/main"
REPLICA_NAME="replica"
REPLICA_CONF="/etc/postgresql/${VERSION}/${REPLICA_NAME}"

log() { printf '[replica] %s\n' "$*" >&2; }

# PostgreSQL refuses to run its tools as root; run them as the cluster owner.
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

sql() { # port, statement
  psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -tAq -c "$2"
}

replica_ready() {
  pg_isready -h 127.0.0.1 -p "$REPLICA_PORT" -q 2>/dev/null && [ "$(sql "$REPLICA_PORT" 'SELECT pg_is_in_recovery()' 2>/dev/null)" = "t" ]
}

# Waits until the replica accepts connections; fails at once when it does but is not in recovery.
wait_ready() {
  for _ in $(seq 1 60); do
    if pg_isready -h 127.0.0.1 -p "$REPLICA_PORT" -q 2>/dev/null; then
      [ "$(sql "$REPLICA_PORT" 'SELECT pg_is_in_recovery()' 2>/dev/null)" = "t" ] && return 0
      return 1
    fi
    sleep 0.5
  done
  return 1
}

allow_replication() {
  local hba="${MAIN_CONF}/pg_hba.conf"
  if ! grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    log "allowing replication connections from 127.0.0.1 in ${hba}"
    printf 'host replication all 127.0.0.1/32 trust\n' >>"$hba"
    sql "$PRIMARY_PORT" 'SELECT pg_reload_conf()' >/dev/null
  fi
}

if replica_ready; then
  sql "$REPLICA_PORT" 'SELECT pg_wal_replay_resume()' >/dev/null
  exit 0
fi

allow_replication

created=no
if ! pg_lsclusters -h | awk -v v="$VERSION" -v n="$REPLICA_NAME" '$1 == v && $2 == n { found = 1 } END { exit !found }'; then
  log "creating cluster ${VERSION}/${REPLICA_NAME} on port ${REPLICA_PORT}"
  rm -rf "$REPLICA_CONF"
  pg_createcluster "$VERSION" "$REPLICA_NAME" -p "$REPLICA_PORT" -- --auth-local=trust --auth-host=trust >/dev/null
  {
    printf "listen_addresses = '127.0.0.1'\n"
    printf 'port = %s\n' "$REPLICA_PORT"
    printf 'hot_standby = on\n'
    # The primary keeps rows a running replica read still needs, instead of the replica cancelling the read.
    printf 'hot_standby_feedback = on\n'
  } >"${REPLICA_CONF}/conf.d/90-replica.conf"
  created=yes
fi

# An existing replica that was only stopped comes back by itself (it catches up from the primary).
if [ "$created" = no ]; then
  if pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$REPLICA_NAME" start >/dev/null 2>&1 && wait_ready; then
    sql "$REPLICA_PORT" 'SELECT pg_wal_replay_resume()' >/dev/null
    exit 0
  fi
fi

# A new cluster, or one that does not come up as a replica (e.g. its WAL was recycled on the primary): rebuilt.
log "building the replica from a base backup of 127.0.0.1:${PRIMARY_PORT}"
pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$REPLICA_NAME" stop -m immediate >/dev/null 2>&1 || true
DATA_DIR="$(pg_conftool -s "$VERSION" "$REPLICA_NAME" show data_directory)"
case "$DATA_DIR" in
  /var/lib/postgresql/*/"$REPLICA_NAME") ;;
  *) log "unexpected replica data directory '${DATA_DIR}': not emptying it"; exit 1 ;;
esac
for attempt in 1 2; do
  find "$DATA_DIR" -mindepth 1 -delete
  # -c fast: checkpoint at once instead of spreading it over minutes; -R: standby.signal + primary_conninfo.
  if as_postgres pg_basebackup -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DATA_DIR" -R -X stream -c fast; then break; fi
  if [ "$attempt" = 2 ]; then log "base backup failed"; exit 1; fi
done
pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$REPLICA_NAME" start
if ! wait_ready; then log "the replica did not come up"; exit 1; fi
log "replica streaming on 127.0.0.1:${REPLICA_PORT}"
