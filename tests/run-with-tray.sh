#!/usr/bin/env bash
# tests/run-with-tray.sh PROGRAM [ARGS…] — runs a GUI test on a display of its own (Xvfb) with
# a system tray host (trayer), so QSystemTrayIcon is real. Exits 77 (skipped) when Xvfb or
# trayer is not installed (apt-get install xvfb trayer).
set -euo pipefail
command -v Xvfb >/dev/null || { echo "run-with-tray: Xvfb is not installed" >&2; exit 77; }
command -v trayer >/dev/null || { echo "run-with-tray: trayer is not installed" >&2; exit 77; }
DISP=""
for n in $(seq 150 200); do
  [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ] || { DISP=":$n"; break; }
done
[ -n "$DISP" ] || { echo "run-with-tray: no free display" >&2; exit 1; }
Xvfb "$DISP" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
XPID=$!
TPID=""
trap 'kill $TPID $XPID 2>/dev/null || true' EXIT
export DISPLAY=$DISP
for _ in $(seq 1 50); do [ -e "/tmp/.X11-unix/X${DISP#:}" ] && break; sleep 0.1; done
trayer --edge top --align right --widthtype pixel --width 120 --height 24 >/dev/null 2>&1 &
TPID=$!
sleep 1
unset DBUS_SESSION_BUS_ADDRESS # the X11 (XEmbed) tray, not a D-Bus one
QT_QPA_PLATFORM=xcb "$@"
