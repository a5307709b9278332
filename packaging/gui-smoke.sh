#!/usr/bin/env bash
# packaging/gui-smoke.sh — the real desktop app under Xvfb, used as a new user would: on the
# empty Jobs tab, a mouse click (xdotool, real X input) on "Run an example"; then it waits
# until the five counter jobs on workspace counter-demo have completed and checks:
#   * over the app's own HTTP API: five jobs "Increment 1..5", all completed, and job N's
#     stdout is "Counter is now: N" (so they ran in order on one workspace);
#   * in the window, through the accessibility bus (AT-SPI): a visible text widget (the output
#     pane of the selected job, Increment 5) shows "Counter is now: 5";
#   * a screenshot of the screen is saved (MAGPIE_SMOKE_SHOT, default build/gui-smoke.png) to
#     look at.
# The button is found by its visible text through AT-SPI (no coordinates in this script).
#
#   packaging/gui-smoke.sh [BUILD_DIR]      (needs Xvfb, xdotool, python3-pyatspi, curl,
#                                            dbus-daemon, at-spi2-core and the guest image)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${MAGPIE_BUILD_DIR:-$ROOT/build}}
BIN="$BUILD/app/magpie-desktop"
SHOT=${MAGPIE_SMOKE_SHOT:-$BUILD/gui-smoke.png}
export MAGPIE_GUEST_DIR=${MAGPIE_GUEST_DIR:-$BUILD/guest}
export MAGPIE_ACCEL=${MAGPIE_ACCEL:-tcg}

say() { echo "[gui-smoke] $*"; }
fail() { echo "[gui-smoke] FAIL: $*" >&2; exit 1; }
# A missing tool is not a failure of the app: exit 77, which ctest reports as skipped.
missing() { echo "[gui-smoke] SKIP: $*" >&2; exit 77; }

[ -x "$BIN" ] || fail "$BIN is missing; build the magpie-desktop target"
[ -f "$MAGPIE_GUEST_DIR/rootfs.qcow2" ] || fail "no guest image in $MAGPIE_GUEST_DIR (build the guest-image target)"
for tool in Xvfb xdotool curl python3 dbus-daemon; do
  command -v "$tool" >/dev/null || missing "$tool is needed (apt-get install xvfb xdotool curl python3 dbus)"
done
# Debian's python3 (the one apt's python3-gi and gir1.2-atspi-2.0 are installed for), even when
# another python3 comes first in PATH.
ATSPI_PY=/usr/bin/python3
[ -x "$ATSPI_PY" ] || ATSPI_PY=$(command -v python3)
"$ATSPI_PY" -c 'import gi; gi.require_version("Atspi", "2.0")' 2>/dev/null || missing "python3-pyatspi (gir1.2-atspi-2.0) is needed"
[ -x /usr/libexec/at-spi-bus-launcher ] || missing "at-spi2-core is needed"

TMP=$(mktemp -d /tmp/magpie-smoke.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

# A display of our own.
DISP=""
for n in $(seq 90 140); do
  [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || { DISP=":$n"; break; }
done
[ -n "$DISP" ] || fail "no free X display number"
Xvfb "$DISP" -screen 0 1400x900x24 -nolisten tcp >"$TMP/xvfb.log" 2>&1 &
PIDS+=($!)
export DISPLAY=$DISP
for _ in $(seq 1 50); do xdotool getmouselocation >/dev/null 2>&1 && break; sleep 0.1; done
xdotool getmouselocation >/dev/null 2>&1 || fail "Xvfb did not start on $DISP"

# A session bus with the accessibility bus on it, so the window can be read like a screen
# reader reads it.
dbus-daemon --session --fork --print-address=3 --print-pid=4 3>"$TMP/bus" 4>"$TMP/bus.pid"
PIDS+=("$(cat "$TMP/bus.pid")")
export DBUS_SESSION_BUS_ADDRESS=$(cat "$TMP/bus")
/usr/libexec/at-spi-bus-launcher --launch-immediately >"$TMP/atspi.log" 2>&1 &
PIDS+=($!)
sleep 1
export QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1 QT_ACCESSIBILITY=1 NO_AT_BRIDGE=0

export MAGPIE_SETTINGS_FILE="$TMP/magpie-desktop.conf"
printf '[General]\ntheme=light\nmaxParallel=2\n' >"$MAGPIE_SETTINGS_FILE"
unset MAGPIE_API_KEY
say "starting $BIN on $DISP (log: $TMP/app.log)"
"$BIN" --data-dir "$TMP/data" >"$TMP/app.log" 2>&1 &
APP=$!
PIDS=("$APP" "${PIDS[@]}")
for _ in $(seq 1 150); do
  [ -f "$TMP/data/endpoint.json" ] && break
  kill -0 "$APP" 2>/dev/null || { cat "$TMP/app.log" >&2; fail "the app exited"; }
  sleep 0.2
done
[ -f "$TMP/data/endpoint.json" ] || fail "no endpoint.json"
URL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$TMP/data/endpoint.json")
KEY=$(cat "$TMP/data/api-key")
api() { curl -fsS -H "Authorization: Bearer $KEY" "$URL$1"; }

# The button, found by its text; then a real click at its centre.
POS=""
for _ in $(seq 1 50); do
  POS=$("$ATSPI_PY" "$ROOT/packaging/gui_smoke_atspi.py" find-button "Run an example" 2>/dev/null) && break
  sleep 0.3
done
[ -n "$POS" ] || { "$ATSPI_PY" "$ROOT/packaging/gui_smoke_atspi.py" dump >&2 || true; fail "no 'Run an example' button on the screen"; }
say "clicking 'Run an example' at $POS"
# shellcheck disable=SC2086
xdotool mousemove $POS sleep 0.3 click 1

# Five jobs, all completed, each printing its own count (so they ran in order, one at a time).
# The list is newest first (submission order), so it is read backwards.
jobs_state() {
  api "/api/v1/jobs?workspace_id=counter-demo&limit=50" | python3 -c '
import json, sys
jobs = list(reversed(json.load(sys.stdin).get("jobs", [])))
print(" ".join("%s=%s" % (j["name"].replace(" ", "_"), j["status"]) for j in jobs))'
}
say "waiting for five completed jobs on counter-demo (TCG VMs: a minute or two)"
STATE=""
for _ in $(seq 1 600); do
  STATE=$(jobs_state)
  case "$STATE" in *queued*|*running*|"") sleep 1 ;; *) break ;; esac
done
say "jobs: $STATE"
[ "$STATE" = "Increment_1=completed Increment_2=completed Increment_3=completed Increment_4=completed Increment_5=completed" ] ||
  fail "expected Increment 1..5 completed, got: $STATE"
IDS=$(api "/api/v1/jobs?workspace_id=counter-demo&limit=50" | python3 -c '
import json, sys
print(" ".join(j["request_id"] for j in reversed(json.load(sys.stdin)["jobs"])))')
n=0
for id in $IDS; do
  n=$((n + 1))
  OUT=$(api "/api/v1/jobs/$id/logs?stream=stdout")
  [ "$OUT" = "Counter is now: $n" ] || fail "Increment $n printed: $OUT"
done
say "HTTP API: Increment 1..5 printed 'Counter is now: 1' … 'Counter is now: 5'"

# The output pane in the window shows it.
SEEN=0
for _ in $(seq 1 40); do
  if "$ATSPI_PY" "$ROOT/packaging/gui_smoke_atspi.py" has-text "Counter is now: 5"; then SEEN=1; break; fi
  sleep 0.5
done
[ "$SEEN" = 1 ] || fail "the window shows no 'Counter is now: 5'"
say "window: the output pane shows 'Counter is now: 5'"
if command -v import >/dev/null; then
  import -display "$DISP" -window root "$SHOT" && say "screenshot: $SHOT"
fi
say "PASS"
