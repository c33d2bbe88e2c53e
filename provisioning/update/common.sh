# shellcheck shell=bash disable=SC2034  # sourced: the settings are used by update.sh and rollback.sh
# Shared by update.sh and rollback.sh (sourced, not run). Layout, all under GATE_PREFIX (default /opt/examgate):
#   releases/<version>/venv     one virtualenv per release, built in place (venvs cannot be moved)
#   releases/<version>/.schema  the store schema version that release writes (SCHEMA_VERSION)
#   releases/<version>/.db-backup  path of the database backup taken just before switching TO this release
#   current  -> releases/<version>   switched atomically (rename of a new symlink over the old one)
#   previous -> releases/<version>   the release current replaced (what rollback.sh goes back to)
#   venv     -> current/venv         the path systemd's ExecStart uses (/opt/examgate/venv/bin/examgate)
# Settings (environment): GATE_PREFIX, GATE_DB (/var/lib/examgate/examgate.db), GATE_BACKUPS
# (/var/lib/examgate/backups), GATE_SERVICE (examgate.service), GATE_SYSTEMCTL (systemctl), GATE_PYTHON (python3),
# GATE_KEEP (releases kept, >= 2; default 3), GATE_SETTLE_S (seconds the service must stay up after start; 5).
set -euo pipefail

PREFIX=${GATE_PREFIX:-/opt/examgate}
DB=${GATE_DB:-/var/lib/examgate/examgate.db}
BACKUPS=${GATE_BACKUPS:-$(dirname "$DB")/backups}
SERVICE=${GATE_SERVICE:-examgate.service}
SYSTEMCTL=${GATE_SYSTEMCTL:-systemctl}
PY=${GATE_PYTHON:-python3}
KEEP=${GATE_KEEP:-3}
SETTLE_S=${GATE_SETTLE_S:-5}
RELEASES="$PREFIX/releases"

say() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$1" >&2; [ -n "${2:-}" ] && printf 'remedy: %s\n' "$2" >&2; exit "${3:-3}"; }

release_of() {  # the version a symlink (current/previous) points at, or nothing
    local link="$PREFIX/$1"
    [ -L "$link" ] || return 0
    basename "$(readlink "$link")"
}

# Atomic switch: a new symlink is made beside the old one and renamed over it (rename(2) is atomic).
point() {  # point NAME TARGET
    ln -sfn "$2" "$PREFIX/.$1.new"
    mv -T "$PREFIX/.$1.new" "$PREFIX/$1"
}

db_schema() {  # the schema version recorded in the database file (0 when there is no database yet)
    [ -f "$DB" ] || { echo 0; return; }
    "$PY" -P - "$DB" <<'EOF'
import sqlite3, sys
conn = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
try:
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
except sqlite3.OperationalError:
    row = None
print(row[0] if row and row[0] is not None else 0)
EOF
}

release_schema() {  # the schema version a release writes
    local rel="$RELEASES/$1"
    if [ -f "$rel/.schema" ]; then cat "$rel/.schema"; return; fi
    "$rel/venv/bin/python" -P -c 'from edge.store.db import SCHEMA_VERSION; print(SCHEMA_VERSION)'
}

backup_db() {  # backup_db DEST: online, consistent copy (SQLite backup API), then checked
    "$PY" -P - "$DB" "$1" <<'EOF'
import sqlite3, sys
src = sqlite3.connect(sys.argv[1])
dst = sqlite3.connect(sys.argv[2])
with dst:
    src.backup(dst)
ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
dst.close()
src.close()
if ok != "ok":
    sys.exit(f"backup {sys.argv[2]} failed its integrity check: {ok}")
EOF
}

service() { "$SYSTEMCTL" "$@"; }

stop_service() {  # a unit that is not installed yet is fine; one that keeps running is not
    service stop "$SERVICE" && return 0
    if service is-active --quiet "$SERVICE"; then
        die "$SERVICE cannot be stopped" "stop it by hand (\`systemctl stop $SERVICE\`) and run this again" 3
    fi
    say "note: $SERVICE was not running (or is not installed)"
}

start_and_settle() {  # start the service; true when it is still active SETTLE_S seconds later
    service start "$SERVICE" || return 1
    sleep "$SETTLE_S"
    service is-active --quiet "$SERVICE"
}
