#!/usr/bin/env bash
# arm64 proof without a Pi: a Debian bookworm arm64 root built on this (x86-64) host, the project's aarch64 wheels
# installed into it, and `examgate face compare` + `examgate selftest` run under qemu-aarch64-static -L ROOT.
#
# No binfmt registration, no chroot, no host kernel settings: every arm64 program is started explicitly as
# `qemu-aarch64-static -L ROOT ROOT/usr/bin/python3.11 …`. debootstrap's second stage would need binfmt (it runs
# arm64 maintainer scripts inside a chroot), so it is NOT run: after `debootstrap --foreign` downloads the packages,
# every downloaded .deb is unpacked with `dpkg-deb -x` into ROOT. That gives a file tree good enough to run Python
# (no maintainer scripts ran: no users, no alternatives, no ldconfig cache — the loader falls back to the default
# library paths, which is all Python and the wheels need).
#
# Usage: provisioning/arm64-smoke.sh [WORKDIR]      (default: build/arm64; needs root for debootstrap)
# Needs: debootstrap, qemu-user-static, dpkg-deb, python3 with pip on the host; network to a Debian mirror and PyPI.
# Re-running reuses the root and the wheel folder (delete WORKDIR to start over).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mkdir -p "${1:-$REPO/build/arm64}" && cd "${1:-$REPO/build/arm64}" && pwd)
ROOT="$WORK/root"
WHEELS="$WORK/wheels-${SMOKE_CPU:-cortex-a76}"
SITE=/opt/examgate/site          # inside ROOT
SRC=/opt/examgate/src            # inside ROOT
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PYVER=3.11
HOST_PY=${HOST_PYTHON:-python3}
QEMU=$(command -v qemu-aarch64-static || true)
# Runtime libraries the wheels load: OpenCV (pulled in by mediapipe) needs libGL and GLib even headless.
# MediaPipe's detector (its GPU-capable runtime) needs libEGL and libGLESv2 at load time.
EXTRA_DEBS=python3,python3-minimal,libpython3.11-stdlib,libgl1,libglib2.0-0,libegl1,libgles2,libgomp1,ca-certificates

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
started=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then
    echo "arm64 smoke SKIPPED: debootstrap needs root (run \`sudo make arm64-smoke\`; CI runs as root)"
    exit 0
fi
for tool in debootstrap dpkg-deb; do
    command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y debootstrap" >&2; exit 2; }
done
[ -n "$QEMU" ] || { echo "missing qemu-aarch64-static: apt-get install -y qemu-user-static" >&2; exit 2; }

# 1. first stage only: download + unpack the base system (no arm64 code runs here)
STAMP="$WORK/root.packages"
if [ ! -x "$ROOT/usr/bin/python$PYVER" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$EXTRA_DEBS" ]; then
    step "debootstrap --foreign arm64 bookworm"
    rm -rf "${ROOT:?}" "$STAMP"
    mkdir -p "$ROOT"
    debootstrap --foreign --arch arm64 --variant=minbase --include="$EXTRA_DEBS" bookworm "$ROOT" "$MIRROR"
    step "unpack every downloaded .deb with dpkg-deb -x (second stage skipped: it needs binfmt)"
    count=0
    for deb in "$ROOT"/var/cache/apt/archives/*.deb; do
        dpkg-deb -x "$deb" "$ROOT"
        count=$((count + 1))
    done
    echo "unpacked $count packages"
    echo "$EXTRA_DEBS" > "$STAMP"
fi
PY="$ROOT/usr/bin/python$PYVER"

# The CPU qemu emulates: cortex-a76 = Raspberry Pi 5 (default), cortex-a72 = Raspberry Pi 4.
CPU=${SMOKE_CPU:-cortex-a76}
# Extra requirement pins. MediaPipe >= 1.0 aarch64 wheels are built for ARMv8.1+ (LSE atomics) and abort on the
# Pi 4's Cortex-A72 ("compiled with lse enabled"); 0.10.18 is the last release found to run there.
PINS=${SMOKE_PINS-}
if [ "$CPU" = cortex-a72 ] && [ -z "$PINS" ]; then PINS="mediapipe==0.10.18"; fi
read -r -a pins <<< "$PINS"
# qemu-user shows the HOST's /proc/cpuinfo; XNNPACK's cpuinfo library then finds no ARM cores and LiteRT crashes.
# With -L, qemu looks paths up in ROOT first, so ROOT/proc/cpuinfo (what the Pi's kernel prints) is read instead.
write_cpuinfo() {  # $1 = CPU part number, $2 = feature list
    mkdir -p "$ROOT/proc"
    : > "$ROOT/proc/cpuinfo"
    for n in 0 1 2 3; do
        printf 'processor\t: %s\nBogoMIPS\t: 108.00\nFeatures\t: %s\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x4\nCPU part\t: %s\nCPU revision\t: 1\n\n' \
            "$n" "$2" "$1" >> "$ROOT/proc/cpuinfo"
    done
}
cpuinfo_for() {
    case "$1" in
        cortex-a72) write_cpuinfo 0xd08 "fp asimd evtstrm crc32 cpuid" ;;
        cortex-a76) write_cpuinfo 0xd0b "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp" ;;
        *) echo "SMOKE_CPU must be cortex-a76 (Pi 5) or cortex-a72 (Pi 4)" >&2; exit 2 ;;
    esac
}
cpuinfo_for "$CPU"
# -P: never put the current directory on sys.path (a checkout there would shadow the tree inside ROOT)
run_arm() { "$QEMU" -cpu "$CPU" -L "$ROOT" "$PY" -P "$@"; }
step "arm64 python"
run_arm -c 'import platform, sys; print(platform.machine(), sys.version.split()[0])'

# 2. the project's dependencies as aarch64 wheels (pip matches platform tags exactly: list every one accepted)
step "pip download aarch64 wheels"
mkdir -p "$WHEELS"
platforms=(--platform manylinux2014_aarch64)
for glibc in 17 24 26 27 28 31 34 35 36; do platforms+=(--platform "manylinux_2_${glibc}_aarch64"); done
mapfile -t deps < <("$HOST_PY" - "$REPO/pyproject.toml" <<'EOF'
import sys, tomllib
for dep in tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]:
    print(dep.split(";")[0].strip())
EOF
)
"$HOST_PY" -m pip download --quiet --dest "$WHEELS" --only-binary=:all: --python-version "$PYVER" \
    --implementation cp --abi "cp${PYVER/./}" --abi abi3 --abi none "${platforms[@]}" "${deps[@]}" "${pins[@]}"
find "$WHEELS" -name '*.whl' -printf '  %f\n' | sort

# 3. install them into a target folder inside ROOT (host pip, no arm64 code runs), plus the project's source tree
step "install wheels into ROOT$SITE"
rm -rf "${ROOT:?}$SITE" "${ROOT:?}$SRC"
"$HOST_PY" -m pip install --quiet --no-index --find-links "$WHEELS" --no-deps --target "$ROOT$SITE" \
    --only-binary=:all: --python-version "$PYVER" --implementation cp "${platforms[@]}" "$WHEELS"/*.whl
mkdir -p "$ROOT$SRC"
git -C "$REPO" archive HEAD edge firmware_bridge models tests/data demo | tar -x -C "$ROOT$SRC"
export PYTHONPATH="$SRC:$SITE" PYTHONDONTWRITEBYTECODE=1

# 4. the face pipeline on arm64: MediaPipe detection + LiteRT embedding on two photos of the same person
step "examgate face compare (arm64)"
faces="$SRC/demo/faces"
first=$(find "$ROOT$faces" -type f -name '*.jpg' | sort | head -1)
person=$(dirname "$first")
second=$(find "$person" -type f -name '*.jpg' | sort | sed -n 2p)
t0=$(date +%s)
run_arm -m edge.cli.main face compare --json "${first#"$ROOT"}" "${second#"$ROOT"}"
echo "face compare: $(( $(date +%s) - t0 )) s"

# 5. the self-test against simulated devices (no broker configured: that check reports skip)
step "examgate selftest (arm64, simulated devices)"
# Data paths are host paths that do not exist inside ROOT: qemu -L looks a path up in ROOT first and falls back to
# the host, so files the arm64 process creates (the SQLite store) land in WORK/sim on the host.
sim="$WORK/sim"
rm -rf "$sim" && mkdir -p "$sim/cards" "$sim/camera"
cp "$first" "$sim/camera/"
cp "$second" "$sim/cards/an.jpg"
cat > "$sim/cards/an.json" <<'EOF'
{"format": "examgate-card-fixture/1", "personal_id": "001099012345", "full_name": "Nguyen Van An",
 "birth_date": "1999-01-01", "expiry_date": "2039-01-01", "face_image": "an.jpg"}
EOF
cat > "$sim/examgate.toml" <<EOF
[site]
site_id = "arm64-smoke"
gate_id = "lane-1"
[store]
path = "$sim/examgate.db"
min_free_mb = 1
[policy]
thresholds = { version = "smoke", match = 0.6, review = 0.5 }
[reader]
kind = "simulated"
cards_dir = "$sim/cards"
[camera]
kind = "folder"
path = "$sim/camera"
EOF
printf 'candidate_id,personal_id,full_name,birth_date\nC1,001099012345,Nguyen Van An,1999-01-01\n' > "$sim/roster.csv"
run_arm -m edge.cli.main roster import "$sim/roster.csv" --session SMOKE --config "$sim/examgate.toml"
t0=$(date +%s)
run_arm -m edge.cli.main selftest --config "$sim/examgate.toml"
echo "selftest: $(( $(date +%s) - t0 )) s"

# 6. privacy at rest on arm64: JPEG 2000 chip photo -> JPEG, AES-256-GCM seal/open (cryptography's aarch64 wheel)
step "evidence vault round trip (arm64)"
run_arm - "$sim/examgate.db" "${second#"$ROOT"}" <<'EOF'
import io, os, sys
import numpy as np
from PIL import Image
from edge.privacy import EvidenceVault
from edge.privacy.keys import key_id_of
from edge.store import Store
store = Store.open(__import__("pathlib").Path(sys.argv[1]))
jp2 = io.BytesIO()
Image.open(sys.argv[2]).convert("RGB").save(jp2, format="JPEG2000")
key = os.urandom(32)
vault = EvidenceVault(store, key, 30, key_id_of(key))
live = np.asarray(Image.open(sys.argv[2]).convert("RGB"), dtype=np.uint8)
vault.keep("arm64-smoke", live, jp2.getvalue(), None)
assert vault.failures == 0
sizes = {k: len(vault.load("arm64-smoke", k) or b"") for k in ("live", "chip")}
assert all(sizes.values()), sizes
print("sealed and opened on", os.uname().machine, sizes, "audit ok:", store.verify_audit().ok)
EOF

# 7. Raspberry Pi 4 probe: does MediaPipe's detector load on a Cortex-A72 (ARMv8.0, no LSE atomics)? Reported only.
if [ "$CPU" != cortex-a72 ]; then
    step "probe: MediaPipe face detector on cortex-a72 (Pi 4)"
    cpuinfo_for cortex-a72
    probe='from pathlib import Path
from edge.vision.detect import FaceDetector
FaceDetector(Path("/opt/examgate/src/models/face_detection_short_range.tflite"))'
    if out=$("$QEMU" -cpu cortex-a72 -L "$ROOT" "$PY" -P -c "$probe" 2>&1); then
        echo "cortex-a72 (Pi 4): the MediaPipe face detector loads"
    else
        echo "cortex-a72 (Pi 4): the MediaPipe face detector does NOT load:"
        printf '%s\n' "$out" | grep -a -m1 -E "compiled with|Error" || true
        echo "  (run SMOKE_CPU=cortex-a72 to smoke-test the Pi 4 set with mediapipe==0.10.18)"
    fi
    cpuinfo_for "$CPU"
fi

step "done: arm64 smoke passed in $(( $(date +%s) - started )) s"
