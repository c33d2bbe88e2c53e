#!/usr/bin/env bash
# Install the Debian packages ExamGate needs, only those that are missing, and only when run as root.
# Usage: provisioning/system-deps.sh runtime|test
#   runtime: python3-venv (for `python3 -m venv`), libgl1 + libglib2.0-0 (OpenCV inside mediapipe), mosquitto (demo broker), mosquitto-clients (mosquitto_sub, which the demo suggests)
#   test:    runtime + systemd (systemd-analyze for unit checks), debootstrap + qemu-user-static (make arm64-smoke),
#            chromium (browser test of the proctor console)
set -euo pipefail
profile="${1:-runtime}"

need=()
python3 -c 'import ensurepip' 2>/dev/null || need+=(python3-venv)
for lib in libGL.so.1 libglib-2.0.so.0 libgthread-2.0.so.0; do
  if ! ldconfig -p 2>/dev/null | grep -q "$lib"; then
    case "$lib" in
      libGL.so.1) need+=(libgl1) ;;
      *) need+=(libglib2.0-0) ;;
    esac
  fi
done
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || need+=(mosquitto-clients)  # the demo prints a mosquitto_sub command
if [ "$profile" = "test" ]; then
  command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
  # make arm64-smoke: an arm64 Debian root and user-mode emulation (no binfmt registration)
  command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || need+=(debootstrap)
  command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user-static)
  # the proctor-console browser test drives Debian's Chromium (Playwright's own browser download cannot work offline)
  [ -x /usr/bin/chromium ] || need+=(chromium)
fi
# unique
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u | sed '/^$/d')
[ "${#need[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "examgate: missing Debian packages: ${need[*]}" >&2
  echo "examgate: install them with: sudo apt-get install -y ${need[*]}  (then run make again)" >&2
  # python3-venv is the only hard stop before the venv exists; the rest is reported again by the tests that need it
  case " ${need[*]} " in *" python3-venv "*) exit 1 ;; esac
  exit 0
fi
echo "examgate: installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
