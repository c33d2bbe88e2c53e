#!/usr/bin/env bash
# Install ExamGate VERSION beside the running one and switch to it; roll back by itself if it does not come up.
#
#   sudo provisioning/update/update.sh VERSION [PIP_ARGS...]
#   e.g. update.sh 0.2.0 --no-index --find-links /media/usb/wheels 'examgate[pi]==0.2.0'
#        update.sh 0.2.0 'examgate[pi] @ git+https://…@v0.2.0'
#
# 1. build releases/VERSION/venv (skipped when releases/VERSION/.complete exists: a pre-staged release),
#    smoke-test it (`examgate --version`) and record the schema version it writes; with GATE_MODELS=DIR copy the
#    release's face models into releases/VERSION/models; models there are checked against their SHA256SUMS;
# 2. stop the service; back the database up with SQLite's online backup API (checked with integrity_check);
# 3. switch `current` to the new release atomically, `previous` to the old one;
# 4. start the service (its store migrates the database on open); if it is not up and still active after
#    GATE_SETTLE_S seconds, run rollback.sh (which restores the backup when the schema moved) and exit 1;
# 5. delete releases beyond the newest GATE_KEEP (never current or previous).
# Never run it during an exam session. Settings: see common.sh. Exit codes: 0 switched, 1 rolled back, 2 usage, 3 error.
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=provisioning/update/common.sh
. "$HERE/common.sh"

[ $# -ge 1 ] || die "usage: update.sh VERSION [PIP_ARGS...]" "give the version and what pip should install" 2
VERSION=$1
shift
[[ "$VERSION" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || die "bad version '$VERSION'" "use the release tag, e.g. 0.2.0" 2
[ "$KEEP" -ge 2 ] || die "GATE_KEEP must be at least 2 (current and previous)" "" 2
NEW="$RELEASES/$VERSION"
OLD=$(release_of current)
[ "$OLD" != "$VERSION" ] || die "$VERSION is already the current release" "nothing to do" 3

# 1. build (or reuse a staged build)
mkdir -p "$RELEASES"
if [ -f "$NEW/.complete" ]; then
    say "release $VERSION already built in $NEW"
else
    [ $# -ge 1 ] || die "release $VERSION is not built and no pip arguments were given" \
        "pass what pip should install, e.g. 'examgate[pi]==$VERSION'" 2
    rm -rf "$NEW"
    mkdir -p "$NEW"
    say "building $NEW/venv"
    if ! { "$PY" -m venv --system-site-packages "$NEW/venv" \
        && "$NEW/venv/bin/python" -m pip install --quiet "$@" \
        && "$NEW/venv/bin/examgate" --version; }; then
        rm -rf "$NEW"
        die "building release $VERSION failed; nothing was changed" "read pip's message above" 3
    fi
    "$NEW/venv/bin/python" -P -c 'from edge.store.db import SCHEMA_VERSION; print(SCHEMA_VERSION)' > "$NEW/.schema"
    touch "$NEW/.complete"
fi
[ -x "$NEW/venv/bin/examgate" ] || die "$NEW/venv/bin/examgate is missing" "delete $NEW and run update.sh again" 3

# 1b. the release's face models: copied from GATE_MODELS (a folder with the .tflite files and SHA256SUMS, e.g. the
#     release's models/), then checked; point the config at them once: [vision] models_dir = "/opt/examgate/current/models"
if [ -n "${GATE_MODELS:-}" ]; then
    [ -f "$GATE_MODELS/SHA256SUMS" ] || die "$GATE_MODELS/SHA256SUMS is missing" "pass the release's models/ folder" 2
    rm -rf "$NEW/models.new"
    mkdir -p "$NEW/models.new"
    while read -r _sum name; do
        cp "$GATE_MODELS/${name#\*}" "$NEW/models.new/" || die "model $name missing in $GATE_MODELS" "" 3
    done < "$GATE_MODELS/SHA256SUMS"
    cp "$GATE_MODELS/SHA256SUMS" "$NEW/models.new/"
    [ -f "$GATE_MODELS/thresholds.toml" ] && cp "$GATE_MODELS/thresholds.toml" "$NEW/models.new/"
    rm -rf "$NEW/models"
    mv "$NEW/models.new" "$NEW/models"
fi
if [ -d "$NEW/models" ]; then
    (cd "$NEW/models" && sha256sum --check --quiet SHA256SUMS) || die \
        "the models of release $VERSION do not match their SHA256SUMS; nothing was switched" \
        "copy the release's models/ folder again (GATE_MODELS=DIR) and re-run" 3
    say "models of $VERSION verified against SHA256SUMS"
fi

# 2. stop, back up
say "stopping $SERVICE"
stop_service
: > "$NEW/.db-backup"
if [ -f "$DB" ]; then
    mkdir -p "$BACKUPS"
    chmod 0750 "$BACKUPS"
    backup="$BACKUPS/$(basename "$DB" .db)-before-$VERSION-$(date -u +%Y%m%dT%H%M%SZ).db"
    if ! backup_db "$backup"; then
        service start "$SERVICE" || true
        die "database backup failed; still on ${OLD:-the old release}" "check free space on $(dirname "$BACKUPS")" 3
    fi
    chown --reference="$DB" "$backup" 2>/dev/null || true
    chmod 0600 "$backup"
    echo "$backup" > "$NEW/.db-backup"
    say "database (schema v$(db_schema)) backed up to $backup"
fi

# 3. switch
[ -n "$OLD" ] && point previous "releases/$OLD"
point current "releases/$VERSION"
if [ -d "$PREFIX/venv" ] && [ ! -L "$PREFIX/venv" ]; then  # the pre-releases layout: one venv in place
    mv "$PREFIX/venv" "$PREFIX/venv.pre-releases"
    say "moved the old in-place venv to $PREFIX/venv.pre-releases (not a rollback target)"
fi
point venv current/venv
say "current -> $VERSION${OLD:+ (previous -> $OLD)}"

# 4. start, or go back
if ! start_and_settle; then
    say "$SERVICE did not stay up on $VERSION: rolling back"
    if [ -n "$OLD" ]; then
        "$HERE/rollback.sh" || die "rollback failed too" "run rollback.sh by hand and read docs/operations.md" 3
    fi
    exit 1
fi
say "$SERVICE is running $VERSION"

# 5. prune old releases
keep=("$VERSION" "$OLD")
mapfile -t by_age < <(cd "$RELEASES" && ls -1t)
count=0
for rel in "${by_age[@]}"; do
    count=$((count + 1))
    [ "$count" -le "$KEEP" ] && continue
    [[ " ${keep[*]} " == *" $rel "* ]] && continue
    rm -rf "${RELEASES:?}/$rel"
    say "removed old release $rel"
done
exit 0
