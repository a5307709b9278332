#!/usr/bin/env bash
# test-deb.sh — proves the Debian package on a clean system:
#   1. a fresh Debian 12 (bookworm) root made with debootstrap (minbase; the mirror is read from
#      this machine's apt sources at run time), cached as a tarball under WORKDIR/cache;
#   2. `apt-get install ./magpie-desktop_*.deb` inside it (dependencies from the mirror);
#   3. there: the installed files, `magpie-desktop --version` = the package version = the API's
#      /api/v1/health, `magpie-desktop --headless`, and the seed's counter (five stateful jobs on
#      one workspace) through the installed Python SDK → "Counter is now: 5";
#   4. `apt-get purge` and a check that no file of the package is left outside the user's data
#      and cache folders.
#
#   sudo packaging/test-deb.sh build/magpie-desktop_0.2.0_amd64.deb [WORKDIR]
#
# Needs root (debootstrap, chroot, mounts). WORKDIR defaults to <folder of the .deb>/test-deb.
set -Eeuo pipefail

log() { printf '[test-deb] %s\n' "$*"; }
die() { printf '[test-deb] FAIL: %s\n' "$*" >&2; exit 1; }

[[ $# -ge 1 ]] || die "usage: test-deb.sh PACKAGE.deb [WORKDIR]"
DEB=$(realpath -- "$1")
[[ -f $DEB ]] || die "no package at $1"
WORK=$(realpath -m -- "${2:-$(dirname -- "$DEB")/test-deb}")
[[ $EUID -eq 0 ]] || die "run as root (debootstrap and chroot)"
SUITE=bookworm
ROOT="$WORK/root"
CACHE="$WORK/cache/$SUITE-minbase.tar"
START=$(date +%s)

umount_below() {
    local mp
    awk '{print $2}' /proc/mounts | { grep -F -- "$1/" || true; } | sort -r | while read -r mp; do
        umount -l -- "$mp" 2>/dev/null || true
    done
}
SERVER_PID=
cleanup() {
    local rc=$?
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    umount_below "$ROOT"
    if [[ $rc -eq 0 ]]; then rm -rf --one-file-system -- "$ROOT"; fi
    exit "$rc"
}
trap cleanup EXIT

# The mirror for $SUITE main from apt's own configuration (deb822 first, then one-line format).
find_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -r $f ]] || continue
        awk -v suite="$SUITE" '
            function flush() { if (en != "no" && t ~ /(^| )deb( |$)/ && s ~ ("(^| )" suite "( |$)") && c ~ /(^| )main( |$)/) { split(u, a, " "); print a[1]; exit } t = u = s = c = ""; en = "yes" }
            BEGIN { en = "yes" }
            /^[ \t]*$/ { flush(); next }
            /^Types:/ { sub(/^Types:[ \t]*/, ""); t = $0 }
            /^URIs:/ { sub(/^URIs:[ \t]*/, ""); u = $0 }
            /^Suites:/ { sub(/^Suites:[ \t]*/, ""); s = $0 }
            /^Components:/ { sub(/^Components:[ \t]*/, ""); c = $0 }
            /^Enabled:/ { sub(/^Enabled:[ \t]*/, ""); en = tolower($0) }
            END { flush() }' "$f"
    done | head -n1 | grep . && return 0
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk -v suite="$SUITE" '$1 == "deb" { i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($i ~ /^\[/ || $i ~ /\]$/) i++;
                               if ($(i+1) == suite) for (k = i + 2; k <= NF; k++) if ($k == "main") { print $i; exit } }' | grep .
}
MIRROR=${MAGPIE_DEBIAN_MIRROR:-$(find_mirror)} || die "no apt source for '$SUITE main' in /etc/apt/sources.list*"
if [[ -z ${http_proxy:-} ]]; then
    eval "$(apt-config shell proxy Acquire::http::Proxy 2>/dev/null || true)"
    if [[ -n ${proxy:-} && $proxy != DIRECT ]]; then export http_proxy=$proxy; fi
fi

# ---------------------------------------------------------------- 1. a clean root
umount_below "$ROOT"
rm -rf --one-file-system -- "$ROOT"
mkdir -p -- "$ROOT" "$(dirname -- "$CACHE")"
if [[ ! -f $CACHE ]]; then
    log "debootstrap $SUITE minbase (mirror from apt sources); cached afterwards"
    command -v debootstrap >/dev/null || die "debootstrap is not installed"
    debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
        { tail -n 20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
    umount_below "$ROOT"
    tar -C "$ROOT" -cf "$CACHE.tmp" . && mv -f -- "$CACHE.tmp" "$CACHE"
else
    log "clean root from the cached tarball $(basename -- "$CACHE")"
    tar -C "$ROOT" -xf "$CACHE"
fi
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$ROOT/etc/apt/sources.list"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
[[ -n ${http_proxy:-} ]] && printf 'Acquire::http::Proxy "%s";\n' "$http_proxy" >"$ROOT/etc/apt/apt.conf.d/01proxy"
mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"
mount -t devpts devpts "$ROOT/dev/pts" -o newinstance,ptmxmode=0666 2>/dev/null || true
mount -t tmpfs tmpfs "$ROOT/tmp"
# Downloaded dependencies are kept between runs (the root itself is always fresh).
mkdir -p -- "$WORK/cache/apt-archives/partial"
mount --bind "$WORK/cache/apt-archives" "$ROOT/var/cache/apt/archives"
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
# Nothing is installed in the root before the package: what it needs must come from Depends.
before=$(in_root dpkg-query -W -f='${Package}\n' | sort)

# ---------------------------------------------------------------- 2. install the package
log "apt-get install ./$(basename -- "$DEB") (dependencies from the mirror)"
cp -- "$DEB" "$ROOT/tmp/"
in_root apt-get update -q >"$WORK/apt.log" 2>&1 || { tail "$WORK/apt.log" >&2; die "apt-get update failed"; }
in_root /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "/tmp/$(basename -- "$DEB")" \
    >>"$WORK/apt.log" 2>&1 || { tail -n 30 "$WORK/apt.log" >&2; die "apt-get install of the package failed"; }
log "installed in $(($(date +%s) - START)) s"
PKG_VERSION=$(in_root dpkg-query -W -f='${Version}' magpie-desktop)
in_root dpkg -L magpie-desktop | sort >"$WORK/files.txt"

for f in /usr/bin/magpie-desktop /usr/bin/magpie /usr/share/applications/magpie-desktop.desktop \
         /usr/share/icons/hicolor/scalable/apps/magpie-desktop.svg /usr/share/icons/hicolor/48x48/apps/magpie-desktop.png \
         /usr/share/magpie-desktop/guest/vmlinuz /usr/share/magpie-desktop/guest/initrd.img \
         /usr/share/magpie-desktop/guest/rootfs.qcow2 /usr/share/magpie-desktop/profiles/dev.conf \
         /usr/lib/python3/dist-packages/magpie/__init__.py /usr/share/man/man1/magpie-desktop.1.gz; do
    [[ -e $ROOT$f ]] || die "the package did not install $f"
done
grep -q '^Exec=magpie-desktop' "$ROOT/usr/share/applications/magpie-desktop.desktop" || die "menu entry has no Exec=magpie-desktop"
ver=$(in_root magpie-desktop --version | awk '{print $NF}')
[[ $ver == "$PKG_VERSION" ]] || die "magpie-desktop --version says '$ver', the package is $PKG_VERSION"
in_root python3 -c 'import magpie, sys; print(magpie.__file__)' | grep -q '^/usr/lib/python3/dist-packages/magpie/' ||
    die "the system python3 does not import the installed SDK"
log "version $PKG_VERSION; files in place; SDK importable"

# ---------------------------------------------------------------- 3. headless + the seed counter
DATA=/root/magpie-data
in_root mkdir -p "$DATA"
chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 MAGPIE_ACCEL="${MAGPIE_ACCEL:-tcg}" \
    magpie-desktop --headless --data-dir "$DATA" --listen 127.0.0.1:0 >"$WORK/headless.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    grep -q 'listening on http://127.0.0.1:' "$WORK/headless.log" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/headless.log" >&2; die "magpie-desktop --headless exited"; }
    sleep 0.2
done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/headless.log" | head -n1)
[[ -n $URL ]] || { cat "$WORK/headless.log" >&2; die "no 'listening on' line from magpie-desktop --headless"; }
log "magpie-desktop --headless listens on $URL"
cat >"$ROOT/tmp/counter.py" <<'PY'
import json, sys, urllib.request
from magpie import Magpie

base = sys.argv[1]
health = json.load(urllib.request.urlopen(base + "/api/v1/health"))
print("health version:", health["version"])
client = Magpie()
out = ""
for i in range(5):
    result = client.jobs.run_and_wait(
        name=f"Increment {i+1}",
        script="""
        if [ -f /workspace/counter ]; then COUNT=$(cat /workspace/counter); else COUNT=0; fi
        COUNT=$((COUNT + 1))
        echo $COUNT > /workspace/counter
        echo "Counter is now: $COUNT"
        """,
        stateful=True,
        workspace_id="counter-demo",
    )
    out = result.stdout or ""
    print(f"Run {i+1} completed: {result.status} {out.strip()}", flush=True)
print("LAST:", out.strip())
PY
in_root /usr/bin/env MAGPIE_DATA_DIR="$DATA" python3 /tmp/counter.py "$URL" | tee "$WORK/counter.log" ||
    { tail -n 30 "$WORK/headless.log" >&2; die "the counter through the SDK failed"; }
grep -qx 'LAST: Counter is now: 5' "$WORK/counter.log" || die "the fifth job did not print 'Counter is now: 5'"
grep -qx "health version: $PKG_VERSION" "$WORK/counter.log" || die "/api/v1/health does not report version $PKG_VERSION"
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=
log "seed counter: Counter is now: 5 (through the installed SDK)"

# ---------------------------------------------------------------- 4. purge
in_root /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q magpie-desktop >>"$WORK/apt.log" 2>&1 ||
    die "apt-get purge failed"
in_root dpkg-query -W -f='${Status}' magpie-desktop 2>/dev/null | grep -q installed && die "the package is still installed"
left=()
while IFS= read -r f; do
    [[ -n $f && $f != /. ]] || continue
    if [[ -e $ROOT$f && ! -d $ROOT$f ]]; then left+=("$f"); fi
    if [[ -d $ROOT$f && $f == *magpie* ]]; then left+=("$f/"); fi
done <"$WORK/files.txt"
# Anything named after us outside the user's data folder and cache (~/.cache/magpie-desktop).
while IFS= read -r f; do left+=("$f"); done < <(cd "$ROOT" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./tmp \
    -o -path ./var/cache/apt/archives -o -path ./root/magpie-data -o -path ./root/.cache/magpie-desktop \) -prune -o -iname '*magpie*' -print | sed 's:^\.::')
[[ ${#left[@]} -eq 0 ]] || die "left after purge: ${left[*]}"
after=$(in_root dpkg-query -W -f='${Package}\n' | sort)
log "purged cleanly ($(comm -13 <(echo "$before") <(echo "$after") | wc -l) dependency packages stay, as apt leaves them)"
log "PASS in $(($(date +%s) - START)) s"
