#!/usr/bin/env bash
# packaging/screenshots.sh — screenshots of every view of the desktop window, into
# docs/screenshots/*.png.
#
#   packaging/screenshots.sh [BUILD_DIR]        (default: build/, or $MAGPIE_BUILD_DIR)
#
# Starts magpie-desktop under Xvfb with a temporary data folder and settings file, submits
# jobs over the local HTTP API like an SDK script would (the counter from the stateful-jobs
# guide five times, a small data pipeline with folders, a failing job, a long running one),
# waits for them, then lets the app's hidden --screenshot-dir mode walk through the views
# (jobs with detail, workspaces, new-job form, file browser, clean-up, settings and its code
# snippets, dark theme) and grab each window. Before that, a first run: the app on an empty
# data folder with a stale copy of the guest image (its manifest names another agent), so the
# welcome page and the image banner show; the tour presses "Build now" (the real builder, fast
# from its cache) and shoots the window while and after it builds. Needs xvfb-run, curl, python3 and the guest image (MAGPIE_GUEST_DIR or
# BUILD_DIR/guest). Real VMs run, so this takes a few minutes under TCG.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-${MAGPIE_BUILD_DIR:-$ROOT/build}}
BIN="$BUILD/app/magpie-desktop"
OUT=${MAGPIE_SCREENSHOT_OUT:-$ROOT/docs/screenshots}
export MAGPIE_GUEST_DIR=${MAGPIE_GUEST_DIR:-$BUILD/guest}

[ -x "$BIN" ] || { echo "screenshots: $BIN is missing; build the magpie-desktop target first" >&2; exit 1; }
[ -f "$MAGPIE_GUEST_DIR/rootfs.qcow2" ] || { echo "screenshots: no guest image in $MAGPIE_GUEST_DIR (build the guest-image target)" >&2; exit 1; }
for tool in xvfb-run curl python3; do
  command -v "$tool" >/dev/null || { echo "screenshots: $tool is needed" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/magpie-shots.XXXXXX)
APP_PID=""
cleanup() {
  if [ -n "$APP_PID" ] && kill -0 "$APP_PID" 2>/dev/null; then
    kill -TERM "$APP_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# A settings file of its own, so the user's settings are neither used nor changed.
export MAGPIE_SETTINGS_FILE="$TMP/magpie-desktop.conf"
cat > "$MAGPIE_SETTINGS_FILE" <<CONF
[General]
theme=light
maxParallel=2
CONF
unset MAGPIE_API_KEY

# ---- first run: empty history, stale image, "Build now"
STALE="$TMP/stale-guest"
mkdir -p "$STALE"
cp -l "$MAGPIE_GUEST_DIR"/vmlinuz "$MAGPIE_GUEST_DIR"/initrd.img "$MAGPIE_GUEST_DIR"/rootfs.qcow2 "$STALE"/ 2>/dev/null ||
  cp "$MAGPIE_GUEST_DIR"/vmlinuz "$MAGPIE_GUEST_DIR"/initrd.img "$MAGPIE_GUEST_DIR"/rootfs.qcow2 "$STALE"/
python3 - "$MAGPIE_GUEST_DIR/manifest.json" "$STALE/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["agent_hash"] = "0" * 64   # an agent this build did not make: the image is stale
json.dump(m, open(sys.argv[2], "w"), indent=2)
PY
echo "[screenshots] first run (log: $TMP/first.log)"
mkdir -p "$TMP/first-shots"
echo '{"first_run": true, "build_image": true}' > "$TMP/first-shots/take.tmp"
MAGPIE_GUEST_DIR="$STALE" xvfb-run -a -s "-screen 0 1440x960x24" "$BIN" --data-dir "$TMP/first-data" \
  --screenshot-dir "$TMP/first-shots" >"$TMP/first.log" 2>&1 &
FIRST_PID=$!
sleep 2
mv "$TMP/first-shots/take.tmp" "$TMP/first-shots/take"
for _ in $(seq 1 600); do
  [ -f "$TMP/first-shots/done" ] && break
  kill -0 "$FIRST_PID" 2>/dev/null || break
  sleep 1
done
[ -f "$TMP/first-shots/done" ] || { cat "$TMP/first.log" >&2; echo "screenshots: the first-run tour did not finish" >&2; exit 1; }
wait "$FIRST_PID" || true
grep -F '[screenshots]' "$TMP/first.log" || true

echo "[screenshots] starting the app (log: $TMP/app.log)"
xvfb-run -a -s "-screen 0 1440x960x24" "$BIN" --data-dir "$TMP/data" --screenshot-dir "$TMP/shots" >"$TMP/app.log" 2>&1 &
APP_PID=$!

for _ in $(seq 1 150); do
  [ -f "$TMP/data/endpoint.json" ] && break
  kill -0 "$APP_PID" 2>/dev/null || { cat "$TMP/app.log" >&2; echo "screenshots: the app exited" >&2; exit 1; }
  sleep 0.2
done
[ -f "$TMP/data/endpoint.json" ] || { cat "$TMP/app.log" >&2; echo "screenshots: no endpoint.json" >&2; exit 1; }
URL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$TMP/data/endpoint.json")
KEY=$(cat "$TMP/data/api-key")
echo "[screenshots] API at $URL"

# post JSON -> prints the request_id
post() {
  curl -fsS -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$1" "$URL/api/v1/jobs" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["request_id"])'
}
status() {
  curl -fsS -H "Authorization: Bearer $KEY" "$URL/api/v1/jobs/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'
}
wait_finished() {
  for id in "$@"; do
    for _ in $(seq 1 900); do
      s=$(status "$id")
      case "$s" in queued|running) sleep 1 ;; *) break ;; esac
    done
    echo "[screenshots] job $id: $s"
  done
}
json_str() { python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))'; }

COUNTER_SCRIPT=$(cat <<'SH' | json_str
# Read current counter
if [ -f /workspace/counter ]; then
    COUNT=$(cat /workspace/counter)
else
    COUNT=0
fi

# Increment
COUNT=$((COUNT + 1))
echo $COUNT > /workspace/counter
echo "Counter is now: $COUNT"
SH
)
COUNTER_IDS=()
for i in 1 2 3 4 5; do
  COUNTER_IDS+=("$(post "{\"name\": \"Increment $i\", \"script\": $COUNTER_SCRIPT, \"stateful\": true, \"workspace_id\": \"counter-demo\", \"network\": false}")")
done

PIPELINE_SCRIPT=$(cat <<'SH' | json_str
set -e
mkdir -p /workspace/data/raw /workspace/data/results /workspace/cache
for n in 1 2 3; do
  seq 1 $((n * 20000)) | sed "s/^/row-$n,/" > /workspace/data/raw/part-$n.csv
done
head -c 24M /dev/urandom > /workspace/cache/model.bin
head -c 6M /dev/urandom > /workspace/cache/index.bin
wc -l /workspace/data/raw/*.csv | tee /workspace/data/results/summary.txt
du -sh /workspace/*
SH
)
PIPE_ID=$(post "{\"name\": \"Prepare data\", \"script\": $PIPELINE_SCRIPT, \"stateful\": true, \"workspace_id\": \"data-pipeline\", \"workspace_size_gb\": 2, \"network\": false}")

FAIL_SCRIPT=$(cat <<'SH' | json_str
echo "Building project..."
echo "  CC main.o"
echo "  CC util.o"
echo "util.c:42: error: 'config.h' file not found" >&2
echo "build failed" >&2
exit 2
SH
)
FAIL_ID=$(post "{\"name\": \"Nightly build\", \"script\": $FAIL_SCRIPT, \"network\": false}")

HELLO_SCRIPT=$(printf 'echo "Hello from $(uname -sr)"\nnproc\nfree -m | head -2\n' | json_str)
HELLO_ID=$(post "{\"name\": \"Hello VM\", \"script\": $HELLO_SCRIPT, \"network\": false, \"env\": {\"GREETING\": \"hi\"}}")

wait_finished "${COUNTER_IDS[@]}" "$PIPE_ID" "$FAIL_ID" "$HELLO_ID"

LONG_SCRIPT=$(printf 'for i in $(seq 1 900); do\n  echo "processing batch $i of 900"\n  sleep 1\ndone\n' | json_str)
LONG_ID=$(post "{\"name\": \"Long import\", \"script\": $LONG_SCRIPT, \"stateful\": true, \"workspace_id\": \"import-job\", \"workspace_size_gb\": 5, \"network\": false}")
# One more counter job queued behind nothing, and one queued behind the long import.
QUEUED_ID=$(post "{\"name\": \"Report after import\", \"script\": \"ls -l /workspace\", \"stateful\": true, \"workspace_id\": \"import-job\", \"network\": false}")
for _ in $(seq 1 120); do
  [ "$(status "$LONG_ID")" = running ] && break
  sleep 1
done
sleep 8 # some output

LAST_COUNTER=${COUNTER_IDS[4]}
cat > "$TMP/shots.take" <<JSON
{"job": "$LAST_COUNTER", "running_job": "$LONG_ID", "failed_job": "$FAIL_ID",
 "workspace": "counter-demo", "browse_workspace": "data-pipeline", "theme_dark": true}
JSON
mkdir -p "$TMP/shots"
mv "$TMP/shots.take" "$TMP/shots/take"
echo "[screenshots] taking screenshots"
for _ in $(seq 1 600); do
  [ -f "$TMP/shots/done" ] && break
  kill -0 "$APP_PID" 2>/dev/null || break
  sleep 1
done
[ -f "$TMP/shots/done" ] || { cat "$TMP/app.log" >&2; echo "screenshots: the app did not finish the tour" >&2; exit 1; }

mkdir -p "$OUT"
cp "$TMP"/first-shots/*.png "$TMP"/shots/*.png "$OUT"/
echo "[screenshots] saved:"
ls -1 "$OUT"/*.png
for _ in $(seq 1 100); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.2; done
