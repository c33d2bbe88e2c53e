#!/usr/bin/env bash
# Go back to the previous release (the one `previous` points at).
#
#   sudo provisioning/update/rollback.sh
#
# The store refuses a database whose schema is newer than the software (E_STORE_SCHEMA_NEWER). So:
# - if the database's schema is one the previous release knows, the database is kept as it is (nothing lost);
# - otherwise the backup update.sh took just before switching is restored. The newer database (with everything
#   recorded since the update) is moved aside, never deleted, as BACKUPS/<db>-rolled-back-from-<version>-<time>.db
#   (+ its -wal/-shm): events it holds that were not yet published must be recovered from it by hand
#   (docs/operations.md).
# Then `current` and `previous` swap (so running update.sh with the same version again, or rollback.sh, goes forward
# again) and the service is started. Exit codes: 0 rolled back, 3 error. Settings: see common.sh.
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=provisioning/update/common.sh
. "$HERE/common.sh"

CUR=$(release_of current)
PREV=$(release_of previous)
[ -n "$PREV" ] || die "no previous release to go back to ($PREFIX/previous is missing)" \
    "install the wanted version with update.sh VERSION PIP_ARGS instead" 3
[ -x "$RELEASES/$PREV/venv/bin/examgate" ] || die "previous release $PREV is incomplete ($RELEASES/$PREV)" \
    "install it again with update.sh $PREV PIP_ARGS" 3

say "stopping $SERVICE"
stop_service

db_version=$(db_schema)
prev_version=$(release_schema "$PREV")
if [ "$db_version" -gt "$prev_version" ]; then
    backup=$(cat "$RELEASES/$CUR/.db-backup" 2>/dev/null || true)
    if [ -z "$backup" ] || [ ! -f "$backup" ]; then die \
        "the database is schema v$db_version, release $PREV only knows v$prev_version, and no backup is recorded" \
        "restore a backup from $BACKUPS by hand (docs/operations.md), or stay on $CUR" 3
    fi
    aside="$BACKUPS/$(basename "$DB" .db)-rolled-back-from-$CUR-$(date -u +%Y%m%dT%H%M%SZ).db"
    mkdir -p "$BACKUPS"
    for suffix in "" -wal -shm; do  # a stale -wal must never be replayed onto the restored file
        [ -e "$DB$suffix" ] && mv "$DB$suffix" "$aside$suffix"
    done
    cp "$backup" "$DB.restoring"
    chown --reference="$aside" "$DB.restoring" 2>/dev/null || true
    chmod 0600 "$DB.restoring"
    mv "$DB.restoring" "$DB"
    say "database schema v$db_version is newer than $PREV knows (v$prev_version): restored $backup"
    say "the database as it was on $CUR is kept in $aside"
else
    say "database schema v$db_version is one $PREV knows (v$prev_version): kept as it is"
fi

point current "releases/$PREV"
[ -n "$CUR" ] && point previous "releases/$CUR"
point venv current/venv
say "current -> $PREV${CUR:+ (previous -> $CUR)}"

start_and_settle || die "$SERVICE does not stay up on $PREV either" \
    "read \`journalctl -u $SERVICE -b\` and run \`examgate selftest\`" 3
say "$SERVICE is running $PREV"
