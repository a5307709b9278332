#!/usr/bin/env bash
# build-image.sh — builds the Magpie Desktop guest image: a Debian cloud kernel, an initramfs
# whose /init is the agent (it loads the modules and mounts the root itself), and a Debian root
# filesystem (qcow2).
#
#   build-image.sh --agent /path/to/magpie-agent --out OUTDIR
#
# Writes OUTDIR/{vmlinuz,initrd.img,rootfs.qcow2,manifest.json}. Expensive parts are cached
# (see README.md); an unchanged second run takes well under 2 s. Must run as root when the
# root filesystem has to be (re)built or host tools have to be installed.
set -Eeuo pipefail
shopt -s nullglob

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
readonly SCRIPT_DIR

# ---------------------------------------------------------------- recipe parameters
readonly SUITE=bookworm
readonly ROOTFS_VARIANT=minbase
readonly ROOTFS_PACKAGES=bash,coreutils,curl,ca-certificates,python3,git,make,iproute2,e2fsprogs,procps,python-is-python3
readonly ROOTFS_SIZE=4G
readonly KERNEL_META=linux-image-cloud-amd64
# Modules wanted in the initramfs; their dependencies are added and ordered automatically.
GUEST_MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
               virtio_blk virtio_console failover net_failover virtio_net)
if [[ -n ${MAGPIE_GUEST_EXTRA_MODULES:-} ]]; then
    read -r -a _extra <<<"${MAGPIE_GUEST_EXTRA_MODULES//,/ }"
    GUEST_MODULES+=("${_extra[@]}")
fi
# Number of cache entries kept per kind (older ones are deleted after a new one is built).
readonly KEEP_KERNELS=3 KEEP_ROOTFS=4 KEEP_INITRDS=10

CACHE_DIR=${MAGPIE_GUEST_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/magpie-desktop/guest-cache}

# ---------------------------------------------------------------- helpers
START_SECONDS=$(date +%s.%N)
# The original stderr, for messages from the exit trap (which may fire while a command's output
# is redirected into a log file).
exec 8>&2
TMP_DIRS=()
CHILD_PGID=

log() { printf '[guest-image] %s\n' "$*"; }
warn() { printf '[guest-image] warning: %s\n' "$*" >&2; }
die() {
    printf '[guest-image] ERROR: %s\n' "$*" >&2
    exit 1
}

on_err() {
    local rc=$1 line=$2 cmd=$3
    # Only report once, from the main shell.
    if [[ $BASH_SUBSHELL -eq 0 ]]; then
        printf '[guest-image] ERROR: command failed (exit %s) at build-image.sh line %s: %s\n' \
            "$rc" "$line" "$cmd" >&2
    fi
}
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

# Unmounts everything mounted below $1 (deepest first), e.g. a debootstrap target's /proc.
umount_below() {
    local dir=$1 mp
    dir=$(realpath -m -- "$dir")
    awk '{print $2}' /proc/mounts | { grep -F -- "$dir/" || true; } | sort -r | while read -r mp; do
        umount -l -- "$mp" 2>/dev/null || true
    done
}

remove_tree() {
    local d=$1
    [[ -e $d ]] || return 0
    umount_below "$d"
    rm -rf --one-file-system -- "$d"
}

# Runs a long command in its own process group so that an interrupted build can stop it (and
# everything it started, e.g. dpkg inside the debootstrap chroot) before removing its files.
run_killable() {
    local rc=0
    setsid "$@" &
    CHILD_PGID=$!
    wait "$CHILD_PGID" || rc=$?
    CHILD_PGID=
    return "$rc"
}

cleanup() {
    local rc=$? d
    trap - ERR
    if [[ -n $CHILD_PGID ]] && kill -0 -- "-$CHILD_PGID" 2>/dev/null; then
        kill -TERM -- "-$CHILD_PGID" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 -- "-$CHILD_PGID" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL -- "-$CHILD_PGID" 2>/dev/null || true
        wait 2>/dev/null || true
    fi
    for d in "${TMP_DIRS[@]}"; do
        remove_tree "$d" || true
    done
    if [[ $rc -ne 0 ]]; then
        printf '[guest-image] FAILED (exit %s); no partial file was left in the cache\n' "$rc" >&8
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# make_tmp VAR NAME — creates a temp folder inside the cache, removed on exit, and stores its
# path in VAR. (Not a $(...) helper: the folder must be registered in the main shell.)
make_tmp() {
    local d
    d=$(mktemp -d "$CACHE_DIR/tmp/$2.XXXXXX")
    TMP_DIRS+=("$d")
    printf -v "$1" '%s' "$d"
}

sha256_file() { sha256sum -- "$1" | cut -d' ' -f1; }
sha256_str() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
now_iso() { date -u +%Y-%m-%dT%H:%M:%SZ; }

need_root() {
    [[ $EUID -eq 0 ]] || die "$1 needs root; run build-image.sh as root (e.g. with sudo)"
}

APT_UPDATED=0
apt_update_once() {
    [[ $APT_UPDATED -eq 1 ]] && return 0
    need_root "apt-get update"
    log "apt-get update"
    if ! DEBIAN_FRONTEND=noninteractive apt-get update -qq; then
        warn "apt-get update failed"
        return 1
    fi
    APT_UPDATED=1
}

apt_install() {
    need_root "installing host packages ($*)"
    log "installing host packages: $*"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; then
        apt_update_once || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
            die "apt-get install $* failed"
    fi
}

pkg_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}

# ensure_tools CMD:PACKAGE... — installs the packages whose command is missing.
ensure_tools() {
    local spec cmd pkg missing=()
    for spec in "$@"; do
        cmd=${spec%%:*} pkg=${spec#*:}
        command -v "$cmd" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 ||
            missing+=("$pkg")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        apt_install "${missing[@]}"
    fi
}


# Atomically publishes SRC as DST: hardlink if possible, else a (reflink) copy. Leaves DST
# alone when it already has the same content, so its timestamp stays stable for make/CMake.
publish() {
    local src=$1 dst=$2 tmp
    if [[ -e $dst ]] && { [[ $src -ef $dst ]] || cmp -s -- "$src" "$dst"; }; then
        return 0
    fi
    tmp="$(dirname -- "$dst")/.$(basename -- "$dst").tmp.$$"
    rm -f -- "$tmp"
    if ! ln -f -- "$src" "$tmp" 2>/dev/null; then
        cp --reflink=auto -- "$src" "$tmp" || die "cannot copy $src to $dst"
    fi
    mv -f -- "$tmp" "$dst"
}

# prune DIR KEEP [EXCEPT] — keeps the KEEP most recently used entries of a cache folder.
prune() {
    local dir=$1 keep=$2 except=${3:-} e n=0
    [[ -d $dir ]] || return 0
    while IFS= read -r e; do
        [[ -n $e ]] || continue
        [[ $e == "$except" ]] && continue
        n=$((n + 1))
        if [[ $n -ge $keep ]]; then
            log "pruning old cache entry $(basename -- "$e")"
            remove_tree "$e"
        fi
    done < <(ls -1dt -- "$dir"/*/ 2>/dev/null | sed 's:/$::')
}

# ---------------------------------------------------------------- arguments
usage() {
    cat <<EOF
usage: build-image.sh --agent /path/to/magpie-agent --out OUTDIR [--recipe FILE.conf]

Builds vmlinuz, initrd.img, rootfs.qcow2 and manifest.json in OUTDIR.
Environment: MAGPIE_GUEST_CACHE, MAGPIE_DEBIAN_MIRROR, MAGPIE_GUEST_REBUILD=1,
             MAGPIE_GUEST_EXTRA_MODULES (see README.md).
EOF
}

AGENT='' OUT='' RECIPE=''
while [[ $# -gt 0 ]]; do
    case $1 in
        --agent) [[ $# -ge 2 ]] || die "--agent needs a path"; AGENT=$2; shift 2 ;;
        --agent=*) AGENT=${1#*=}; shift ;;
        --out) [[ $# -ge 2 ]] || die "--out needs a folder"; OUT=$2; shift 2 ;;
        --out=*) OUT=${1#*=}; shift ;;
        --recipe) [[ $# -ge 2 ]] || die "--recipe needs a file"; RECIPE=$2; shift 2 ;;
        --recipe=*) RECIPE=${1#*=}; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
[[ -n $AGENT ]] || { usage >&2; die "--agent is required"; }
[[ -n $OUT ]] || { usage >&2; die "--out is required"; }
[[ -f $AGENT ]] || die "agent binary not found: $AGENT"
AGENT=$(realpath -- "$AGENT")
case $(head -c 4 -- "$AGENT" | od -An -c | tr -d ' \n') in
    '177ELF') ;;
    '#!'*) warn "agent $AGENT is a script, not an ELF binary" ;;
    *) die "agent $AGENT is neither an ELF binary nor a script" ;;
esac
mkdir -p -- "$OUT" || die "cannot create output folder $OUT"
OUT=$(realpath -- "$OUT")
REBUILD=${MAGPIE_GUEST_REBUILD:-0}

# ---------------------------------------------------------------- image profile (recipe)
# A recipe (profiles/*.conf, or a user's <data folder>/images/recipes/NAME.conf) is KEY=VALUE
# lines: name, description, packages (extra Debian packages, space separated) and setup (a
# script, relative to the recipe file, run as root inside the image at build time).
PROFILE_NAME=base PROFILE_PACKAGES='' PROFILE_SETUP=''
recipe_value() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" -- "$RECIPE" | tail -n1 | sed 's/[[:space:]]*$//'; }
if [[ -n $RECIPE ]]; then
    [[ -f $RECIPE ]] || die "recipe not found: $RECIPE"
    RECIPE=$(realpath -- "$RECIPE")
    PROFILE_NAME=$(recipe_value name)
    [[ $PROFILE_NAME =~ ^[a-z0-9][a-z0-9._-]{0,39}$ ]] || die "recipe $RECIPE: name must be 1-40 of a-z 0-9 . _ - (got '$PROFILE_NAME')"
    PROFILE_PACKAGES=$(recipe_value packages | tr ',' ' ' | xargs -r printf '%s ' | sed 's/ $//')
    for p in $PROFILE_PACKAGES; do
        [[ $p =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die "recipe $RECIPE: '$p' is not a Debian package name"
    done
    setup=$(recipe_value setup)
    if [[ -n $setup ]]; then
        [[ $setup == /* ]] || setup="$(dirname -- "$RECIPE")/$setup"
        [[ -f $setup ]] || die "recipe $RECIPE: setup script not found: $setup"
        PROFILE_SETUP=$(realpath -- "$setup")
    fi
    log "profile $PROFILE_NAME: packages [${PROFILE_PACKAGES}]${PROFILE_SETUP:+, setup $PROFILE_SETUP}"
fi

mkdir -p -- "$CACHE_DIR/tmp" "$CACHE_DIR/kernel" "$CACHE_DIR/rootfs" "$CACHE_DIR/initrd" ||
    die "cannot create cache folder $CACHE_DIR"
CACHE_DIR=$(realpath -- "$CACHE_DIR")

# One build at a time per cache.
exec 9>"$CACHE_DIR/.lock"
if ! flock -n 9; then
    log "another build holds the cache lock, waiting..."
    flock 9
fi
# Leftovers of an interrupted build (never a finished cache entry: those are renamed into place).
for d in "$CACHE_DIR"/tmp/*; do
    remove_tree "$d"
done

log "cache: $CACHE_DIR"

# ================================================================ root filesystem
# Reads the Debian mirror for $SUITE from apt's own configuration (deb822 .sources first, then
# the one-line format). Only a stanza/line whose suite is exactly $SUITE with component main
# counts, so security and updates suites are skipped; disabled files are never read.
find_mirror() {
    local suite=$1 f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f && -r $f ]] || continue
        uri=$(awk -v suite="$suite" '
            function reset() { types = ""; uris = ""; suites = ""; comps = ""; enabled = "yes"; key = "" }
            function has(list, word,   n, a, i) { n = split(list, a, /[ \t]+/); for (i = 1; i <= n; i++) if (a[i] == word) return 1; return 0 }
            function flush(   n, a, i) {
                if (tolower(enabled) != "no" && has(types, "deb") && has(suites, suite) && has(comps, "main")) {
                    n = split(uris, a, /[ \t]+/)
                    for (i = 1; i <= n; i++) if (a[i] ~ /^(https?|ftp|file):/) { print a[i]; found = 1; exit }
                }
                reset()
            }
            BEGIN { reset() }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]/ { val = $0; sub(/^[ \t]+/, "", val); append(val); next }
            {
                key = tolower($0); sub(/:.*/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val)
                append(val)
            }
            function append(v) {
                if (key == "types") types = types " " v
                else if (key == "uris") uris = uris " " v
                else if (key == "suites") suites = suites " " v
                else if (key == "components") comps = comps " " v
                else if (key == "enabled") enabled = v
            }
            END { if (!found) flush() }
        ' "$f")
        if [[ -n $uri ]]; then printf '%s\n' "$uri"; return 0; fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f && -r $f ]] || continue
        uri=$(awk -v suite="$suite" '
            /^[ \t]*#/ || NF < 4 { next }
            $1 != "deb" { next }
            {
                line = $0; sub(/^[ \t]*deb[ \t]+/, "", line)
                if (line ~ /^\[/) sub(/^\[[^]]*\][ \t]*/, "", line)
                n = split(line, a, /[ \t]+/)
                if (n < 3 || a[2] != suite || a[1] !~ /^(https?|ftp|file):/) next
                for (i = 3; i <= n; i++) if (a[i] == "main") { print a[1]; exit }
            }
        ' "$f")
        if [[ -n $uri ]]; then printf '%s\n' "$uri"; return 0; fi
    done
    return 1
}

rootfs_debootstrap() {
    local root=$1 mirror=$2 logf=$3
    run_killable debootstrap --variant="$ROOTFS_VARIANT" --include="$ROOTFS_PACKAGES" \
        "$SUITE" "$root" "$mirror" >"$logf" 2>&1
}

rootfs_trim() {
    local root=$1
    rm -rf -- "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
        "$root"/usr/share/lintian/* "$root"/usr/share/linda/* "$root"/usr/share/bug/*
    find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf -- {} + 2>/dev/null || true
    find "$root/var/lib/apt/lists" -type f -delete
    rm -rf -- "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
        "$root"/var/cache/apt/archives/partial/* "$root"/var/cache/debconf/*-old \
        "$root"/var/lib/dpkg/*-old "$root"/tmp/* "$root"/var/tmp/* "$root"/debootstrap
    find "$root/var/log" -type f -exec truncate -s 0 -- {} +
    # Packages a job installs later stay lean too.
    mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
    cat >"$root/etc/dpkg/dpkg.cfg.d/01-magpie-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
}

rootfs_configure() {
    local root=$1
    printf 'magpie\n' >"$root/etc/hostname"
    printf '127.0.0.1\tlocalhost magpie\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
    rm -f -- "$root/etc/resolv.conf"
    printf 'nameserver 10.0.2.3\n' >"$root/etc/resolv.conf"
    rm -rf -- "$root/workspace"
    mkdir -m 755 -- "$root/workspace"
}

rootfs_make_image() {
    local root=$1 img=$2 qcow=$3
    # lazy_itable_init=0: no background inode-table zeroing in every guest boot.
    mke2fs -q -t ext4 -d "$root" -L magpie-root -m 0 \
        -E lazy_itable_init=0,lazy_journal_init=0 -F "$img" "$ROOTFS_SIZE" >/dev/null
    qemu-img convert -O qcow2 "$img" "$qcow"
}

# Installs a profile's extra packages and runs its setup script inside the fresh root (chroot).
rootfs_customize() {
    local root=$1 mirror=$2 logf=$3 rc=0 proxy_opt=()
    [[ -n $PROFILE_PACKAGES || -n $PROFILE_SETUP ]] || return 0
    cp -L -- /etc/resolv.conf "$root/etc/resolv.conf"
    printf 'deb %s %s main\n' "$mirror" "$SUITE" >"$root/etc/apt/sources.list"
    [[ -n ${http_proxy:-} ]] && proxy_opt=(-o "Acquire::http::Proxy=$http_proxy")
    mount -t proc proc "$root/proc"
    mount --bind /dev "$root/dev"
    {
        if [[ -n $PROFILE_PACKAGES ]]; then
            log "apt-get install (in the image): $PROFILE_PACKAGES"
            # shellcheck disable=SC2086
            chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get "${proxy_opt[@]}" update -q &&
                chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get "${proxy_opt[@]}" install -y -q \
                    --no-install-recommends $PROFILE_PACKAGES &&
                chroot "$root" apt-get clean
        fi
    } >>"$logf" 2>&1 || rc=$?
    if [[ $rc -eq 0 && -n $PROFILE_SETUP ]]; then
        log "running the setup script in the image"
        install -m 755 -- "$PROFILE_SETUP" "$root/tmp/magpie-setup"
        chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
            /bin/bash /tmp/magpie-setup >>"$logf" 2>&1 || rc=$?
    fi
    umount_below "$root"
    return "$rc"
}

# Everything that determines the rootfs (its cache key). The mirror is deliberately not part of
# it: any mirror of the suite gives the same system. MAGPIE_GUEST_REBUILD=1 refreshes it.
rootfs_recipe() {
    printf 'rootfs-recipe-v1\n%s\n%s\n%s\n%s\n' "$SUITE" "$ROOTFS_VARIANT" "$ROOTFS_PACKAGES" "$ROOTFS_SIZE"
    declare -f rootfs_debootstrap rootfs_trim rootfs_configure rootfs_make_image
    # The base profile's key is unchanged from before profiles existed (its cache stays valid).
    if [[ -n $PROFILE_PACKAGES || -n $PROFILE_SETUP ]]; then
        printf 'profile\n%s\n' "$PROFILE_PACKAGES"
        [[ -n $PROFILE_SETUP ]] && sha256_file "$PROFILE_SETUP"
        declare -f rootfs_customize
    fi
}

build_rootfs() {
    local final=$1 tmp mirror t0 proxy=
    need_root "building the root filesystem (debootstrap)"
    ensure_tools debootstrap:debootstrap mke2fs:e2fsprogs qemu-img:qemu-utils wget:wget
    if [[ -n ${MAGPIE_DEBIAN_MIRROR:-} ]]; then
        mirror=$MAGPIE_DEBIAN_MIRROR
        log "mirror (from MAGPIE_DEBIAN_MIRROR): $mirror"
    else
        mirror=$(find_mirror "$SUITE") ||
            die "no enabled apt source for '$SUITE main' in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; set MAGPIE_DEBIAN_MIRROR"
        log "mirror (from apt sources): $mirror"
    fi
    # debootstrap downloads with wget: give it apt's proxy, if apt has one and none is set.
    if [[ -z ${http_proxy:-} ]]; then
        eval "$(apt-config shell proxy Acquire::http::Proxy 2>/dev/null || true)"
        if [[ -n $proxy && $proxy != DIRECT ]]; then export http_proxy=$proxy; fi
    fi

    make_tmp tmp rootfs
    mkdir "$tmp/out"
    t0=$(date +%s)
    # A profile starts from the same debootstrap tree as base: kept as a tarball in the cache,
    # so each further profile skips debootstrap.
    local tree_tar=''
    if [[ -n $PROFILE_PACKAGES || -n $PROFILE_SETUP ]]; then
        tree_tar="$CACHE_DIR/rootfs/debootstrap-$SUITE-$(sha256_str "$(printf '%s\n' "$SUITE" "$ROOTFS_VARIANT" "$ROOTFS_PACKAGES"; declare -f rootfs_debootstrap)" | cut -c1-16).tar"
    fi
    if [[ -n $tree_tar && -f $tree_tar ]]; then
        log "debootstrap: using the cached tree $(basename -- "$tree_tar")"
        mkdir -- "$tmp/root"
        tar -C "$tmp/root" -xf "$tree_tar"
    else
        log "debootstrap $SUITE ($ROOTFS_VARIANT + $ROOTFS_PACKAGES); this takes about a minute"
        if ! rootfs_debootstrap "$tmp/root" "$mirror" "$tmp/debootstrap.log"; then
            tail -n 25 "$tmp/debootstrap.log" >&2 || true
            [[ -f $tmp/root/debootstrap/debootstrap.log ]] && tail -n 25 "$tmp/root/debootstrap/debootstrap.log" >&2
            die "debootstrap failed (mirror $mirror)"
        fi
        umount_below "$tmp/root"
        log "debootstrap done in $(($(date +%s) - t0)) s"
        if [[ -n $tree_tar ]]; then
            tar -C "$tmp/root" -cf "$tree_tar.tmp.$$" . && mv -f -- "$tree_tar.tmp.$$" "$tree_tar"
        fi
    fi
    if ! rootfs_customize "$tmp/root" "$mirror" "$tmp/customize.log"; then
        tail -n 25 "$tmp/customize.log" >&2 || true
        die "profile $PROFILE_NAME: installing its packages or running its setup script failed"
    fi
    log "trimming and configuring"
    rootfs_trim "$tmp/root"
    rootfs_configure "$tmp/root"
    log "root tree: $(du -sh --one-file-system "$tmp/root" | cut -f1); making ext4 ($ROOTFS_SIZE, sparse) and qcow2"
    rootfs_make_image "$tmp/root" "$tmp/root.img" "$tmp/out/rootfs.qcow2"
    remove_tree "$tmp/root"
    rm -f -- "$tmp/root.img"
    chmod 444 "$tmp/out/rootfs.qcow2"
    sha256_file "$tmp/out/rootfs.qcow2" >"$tmp/out/rootfs.sha256"
    rootfs_recipe >"$tmp/out/recipe.txt"
    printf '%s\n' "$mirror" >"$tmp/out/mirror"
    now_iso >"$tmp/out/built_at"
    chmod 755 "$tmp/out"
    mv -T -- "$tmp/out" "$final"
    log "rootfs.qcow2: $(du -h "$final/rootfs.qcow2" | cut -f1) in $(($(date +%s) - t0)) s"
}

ROOTFS_KEY=$(sha256_str "$(rootfs_recipe)")
ROOTFS_DIR="$CACHE_DIR/rootfs/${SUITE}-${ROOTFS_KEY:0:16}"
if [[ $REBUILD == 1 && -d $ROOTFS_DIR ]]; then
    remove_tree "$ROOTFS_DIR"
fi
if [[ -f $ROOTFS_DIR/rootfs.qcow2 && -f $ROOTFS_DIR/rootfs.sha256 ]]; then
    log "rootfs: using cached ${ROOTFS_KEY:0:16}"
else
    remove_tree "$ROOTFS_DIR"
    build_rootfs "$ROOTFS_DIR"
    prune "$CACHE_DIR/rootfs" "$KEEP_ROOTFS" "$ROOTFS_DIR"
fi
touch -- "$ROOTFS_DIR"

# ================================================================ kernel
# Resolves the metapackage to the concrete kernel package and its candidate version.
KPKG='' KPKG_VERSION=''
resolve_kernel_package() {
    KPKG=$(apt-cache depends "$KERNEL_META" 2>/dev/null |
        awk '$1 ~ /Depends:$/ && $2 ~ /^linux-image-[0-9]/ {print $2; exit}' || true)
    [[ -n $KPKG ]] || return 1
    KPKG_VERSION=$(apt-cache show --no-all-versions "$KPKG" 2>/dev/null |
        awk '/^Version:/ {print $2; exit}' || true)
    [[ -n $KPKG_VERSION ]]
}

# Prints the modules a .ko depends on, one per line.
module_depends() {
    local f=$1 deps
    if command -v modinfo >/dev/null 2>&1 || [[ -x /usr/sbin/modinfo || -x /sbin/modinfo ]]; then
        deps=$(PATH="$PATH:/usr/sbin:/sbin" modinfo -F depends "$f")
    else
        # The .modinfo section holds NUL-terminated "key=value" strings.
        deps=$(tr '\0' '\n' <"$f" | grep -a -m1 '^depends=' | cut -d= -f2- || true)
    fi
    tr ',' '\n' <<<"$deps" | sed '/^$/d'
}

# Everything that determines the contents of a kernel cache entry (part of its key).
kernel_recipe() {
    printf 'kernel-recipe-v1\n%s\n%s\n%s\n' "$KPKG" "$KPKG_VERSION" "${GUEST_MODULES[*]}"
    declare -f build_kernel module_depends
}

# build_kernel FINALDIR — downloads and extracts the kernel package (never installs it) and keeps
# vmlinuz plus the wanted modules (with dependencies) and their load order.
build_kernel() {
    local final=$1 tmp deb x moddir kver f n m
    make_tmp tmp kernel
    chmod 755 "$tmp"
    # apt-get download as root drops privileges to _apt when it can write the folder.
    if id _apt >/dev/null 2>&1; then chown _apt "$tmp" 2>/dev/null || true; fi
    log "downloading $KPKG $KPKG_VERSION"
    if ! (cd "$tmp" && apt-get download -qq "$KPKG=$KPKG_VERSION" >/dev/null 2>"$tmp/apt.err"); then
        # Package lists may be stale (the version is gone from the mirror): refresh once.
        if [[ $EUID -eq 0 ]]; then
            apt_update_once || die "apt-get update failed"
            resolve_kernel_package || die "cannot resolve $KERNEL_META after apt-get update"
            (cd "$tmp" && apt-get download -qq "$KPKG=$KPKG_VERSION" >/dev/null 2>"$tmp/apt.err") ||
                { cat "$tmp/apt.err" >&2; die "apt-get download $KPKG failed"; }
        else
            cat "$tmp/apt.err" >&2
            die "apt-get download $KPKG failed"
        fi
    fi
    deb=("$tmp"/*.deb)
    [[ ${#deb[@]} -eq 1 ]] || die "expected one downloaded .deb for $KPKG, found ${#deb[@]}"
    [[ $(dpkg-deb -f "${deb[0]}" Package) == "$KPKG" ]] || die "downloaded package is not $KPKG"
    x="$tmp/x"
    mkdir "$x"
    dpkg-deb -x "${deb[0]}" "$x"
    local moddirs=("$x"/lib/modules/*/)
    [[ ${#moddirs[@]} -eq 1 ]] || die "$KPKG: expected one lib/modules/<version> folder"
    moddir=${moddirs[0]%/}
    kver=$(basename -- "$moddir")
    [[ -f $x/boot/vmlinuz-$kver ]] || die "$KPKG: boot/vmlinuz-$kver is missing"

    local out="$tmp/out"
    mkdir -p "$out/modules"
    cp -- "$x/boot/vmlinuz-$kver" "$out/vmlinuz"

    # name -> path of every module in the package; built-in modules need no file.
    local -A modpath=() builtin=() state=()
    while IFS= read -r -d '' f; do
        n=$(basename -- "$f")
        n=${n%%.ko*}
        modpath[${n//-/_}]=$f
    done < <(find "$moddir" -name '*.ko*' -print0)
    if [[ -f $moddir/modules.builtin ]]; then
        while IFS= read -r f; do
            n=$(basename -- "$f")
            n=${n%%.ko*}
            builtin[${n//-/_}]=1
        done <"$moddir/modules.builtin"
    fi

    local order=()
    visit() {
        local name=${1//-/_} dep path
        case ${state[$name]:-} in
            done) return 0 ;;
            active) die "module dependency cycle at $name" ;;
        esac
        if [[ -n ${builtin[$name]:-} ]]; then
            state[$name]='done'
            return 0
        fi
        path=${modpath[$name]:-}
        [[ -n $path ]] || die "module $name is neither in $KPKG nor built into its kernel"
        state[$name]=active
        while IFS= read -r dep; do
            visit "$dep"
        done < <(module_depends "$path")
        state[$name]='done'
        order+=("$name")
    }
    for m in "${GUEST_MODULES[@]}"; do
        visit "$m"
    done

    for m in "${order[@]}"; do
        f=${modpath[$m]}
        case $f in
            *.ko) cp -- "$f" "$out/modules/$m.ko" ;;
            *.ko.xz) xz -dc -- "$f" >"$out/modules/$m.ko" ;;
            *.ko.zst) zstd -qdc -- "$f" >"$out/modules/$m.ko" ;;
            *.ko.gz) gzip -dc -- "$f" >"$out/modules/$m.ko" ;;
            *) die "unsupported module file $f" ;;
        esac
    done
    printf '%s\n' "${order[@]}" >"$out/modules/load-order"
    printf '%s\n' "$kver" >"$out/kernel_version"
    printf '%s\n' "$KPKG" >"$out/package"
    printf '%s\n' "$KPKG_VERSION" >"$out/package_version"
    sha256_file "$out/vmlinuz" >"$out/vmlinuz.sha256"
    now_iso >"$out/built_at"
    log "kernel $kver, modules: ${order[*]}"
    chmod 755 "$out"
    mv -T -- "$out" "$final"
}

# apt-cache re-reads all package lists on every call (~0.7 s here), so the answer is remembered
# for as long as apt's lists, sources and preferences stay unchanged.
apt_state_stamp() {
    {
        printf '%s\n' "$KERNEL_META"
        stat -c '%n %s %Y' /var/lib/apt/lists/*Packages* /var/lib/apt/lists/*Release \
            /etc/apt/sources.list /etc/apt/sources.list.d/* /etc/apt/preferences \
            /etc/apt/preferences.d/* 2>/dev/null || true
    } | sha256sum | cut -d' ' -f1
}

resolve_kernel_cached() {
    local memo
    memo="$CACHE_DIR/kernel/resolved-$(apt_state_stamp)"
    if [[ -f $memo ]]; then
        { read -r KPKG && read -r KPKG_VERSION; } <"$memo" || true
        [[ -n $KPKG && -n $KPKG_VERSION ]] && return 0
    fi
    resolve_kernel_package || return 1
    rm -f -- "$CACHE_DIR"/kernel/resolved-*
    printf '%s\n%s\n' "$KPKG" "$KPKG_VERSION" >"$memo.tmp.$$" && mv -f -- "$memo.tmp.$$" "$memo"
}

KERNEL_DIR=
if resolve_kernel_cached || { [[ $EUID -eq 0 ]] && apt_update_once && resolve_kernel_cached; }; then
    KERNEL_KEY=$(sha256_str "$(kernel_recipe)")
    KERNEL_DIR="$CACHE_DIR/kernel/${KPKG}_${KPKG_VERSION}-${KERNEL_KEY:0:16}"
    if [[ $REBUILD == 1 && -d $KERNEL_DIR ]]; then
        remove_tree "$KERNEL_DIR"
    fi
    if [[ -d $KERNEL_DIR ]]; then
        log "kernel: using cached $KPKG $KPKG_VERSION"
    else
        ensure_tools dpkg-deb:dpkg
        build_kernel "$KERNEL_DIR"
        prune "$CACHE_DIR/kernel" "$KEEP_KERNELS" "$KERNEL_DIR"
    fi
else
    # Offline or no package lists: fall back to the newest cached kernel, if any.
    KERNEL_DIR=$(ls -1dt -- "$CACHE_DIR"/kernel/*/ 2>/dev/null | head -n1 | sed 's:/$::' || true)
    [[ -n $KERNEL_DIR ]] || die "cannot resolve $KERNEL_META with apt-cache (no package lists?) and no kernel is cached"
    warn "cannot resolve $KERNEL_META with apt-cache; using cached kernel $(basename -- "$KERNEL_DIR")"
    KERNEL_KEY=$(basename -- "$KERNEL_DIR")
fi
touch -- "$KERNEL_DIR"
KERNEL_VERSION=$(cat "$KERNEL_DIR/kernel_version")

# ================================================================ initramfs
# One newc entry (header, name, padding) with no data: directories and device nodes.
cpio_entry() { # NAME MODE(octal) NLINK RDEVMAJOR RDEVMINOR INO
    local name=$1 mode=$((8#$2)) nlink=$3 rmaj=$4 rmin=$5 ino=$6 namesize pad
    namesize=$((${#name} + 1))
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        "$ino" "$mode" 0 0 "$nlink" 0 0 0 0 "$rmaj" "$rmin" "$namesize" 0
    printf '%s\0' "$name"
    pad=$(((4 - (110 + namesize) % 4) % 4))
    head -c "$pad" /dev/zero
}

# A small archive holding /dev/console, so the kernel can open the console for /init. Written by
# hand so that neither root nor mknod is needed.
console_cpio() {
    cpio_entry dev 040755 2 0 0 1
    cpio_entry dev/console 020600 1 5 1 2
    cpio_entry 'TRAILER!!!' 0 1 0 0 0
}

# build_initrd OUTFILE — the agent as /init, the modules and their load order; reproducible
# (fixed owners and times).
build_initrd() {
    local outfile=$1 tmp st
    make_tmp tmp initrd
    st="$tmp/root"
    mkdir -p "$st"/{proc,sys,newroot,lib/modules} # /dev: console_cpio
    install -m 755 -- "$AGENT" "$st/init"
    cp -- "$KERNEL_DIR"/modules/* "$st/lib/modules/"
    chmod 644 "$st"/lib/modules/*
    find "$st" -exec touch -h -d @0 -- {} +
    {
        console_cpio
        (cd "$st" && find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z |
            cpio --null -o -H newc -R 0:0 --reproducible --quiet)
    } | gzip -n -9 >"$tmp/initrd.img"
    mv -f -- "$tmp/initrd.img" "$outfile"
}

ensure_tools cpio:cpio gzip:gzip
INITRD_KEY=$(sha256_str "$(
    printf 'initrd-recipe-v2\n%s\n%s\n' "$(basename -- "$KERNEL_DIR")" "$KERNEL_VERSION"
    sha256_file "$AGENT"
    cat "$KERNEL_DIR/modules/load-order"
    declare -f build_initrd console_cpio cpio_entry
)")
INITRD_DIR="$CACHE_DIR/initrd/${INITRD_KEY:0:16}"
if [[ $REBUILD == 1 && -d $INITRD_DIR ]]; then
    remove_tree "$INITRD_DIR"
fi
if [[ -f $INITRD_DIR/initrd.img && -f $INITRD_DIR/initrd.sha256 ]]; then
    log "initrd: using cached ${INITRD_KEY:0:16}"
else
    remove_tree "$INITRD_DIR"
    make_tmp tmpd initrd-out
    build_initrd "$tmpd/initrd.img"
    sha256_file "$tmpd/initrd.img" >"$tmpd/initrd.sha256"
    now_iso >"$tmpd/built_at"
    chmod 755 "$tmpd"
    mv -T -- "$tmpd" "$INITRD_DIR"
    log "initrd: built ${INITRD_KEY:0:16} ($(du -h "$INITRD_DIR/initrd.img" | cut -f1))"
    prune "$CACHE_DIR/initrd" "$KEEP_INITRDS" "$INITRD_DIR"
fi
touch -- "$INITRD_DIR"

# ================================================================ output
publish "$KERNEL_DIR/vmlinuz" "$OUT/vmlinuz"
publish "$INITRD_DIR/initrd.img" "$OUT/initrd.img"
publish "$ROOTFS_DIR/rootfs.qcow2" "$OUT/rootfs.qcow2"

# built_at: when the newest of the three parts was built, so that unchanged inputs give a
# byte-identical manifest.
BUILT_AT=$(sort <<<"$(cat "$KERNEL_DIR/built_at" "$ROOTFS_DIR/built_at" "$INITRD_DIR/built_at")" | tail -n1)
manifest_tmp="$OUT/.manifest.json.tmp.$$"
cat >"$manifest_tmp" <<EOF
{
  "kernel_version": "$KERNEL_VERSION",
  "kernel_package": "$(cat "$KERNEL_DIR/package")",
  "kernel_package_version": "$(cat "$KERNEL_DIR/package_version")",
  "vmlinuz_hash": "$(cat "$KERNEL_DIR/vmlinuz.sha256")",
  "rootfs_hash": "$(cat "$ROOTFS_DIR/rootfs.sha256")",
  "initrd_hash": "$(cat "$INITRD_DIR/initrd.sha256")",
  "agent_hash": "$(sha256_file "$AGENT")",
  "hash_algorithm": "sha256",
  "rootfs_recipe": "${ROOTFS_KEY:0:16}",
  "debian_suite": "$SUITE",
  "profile": "$PROFILE_NAME",
  "profile_packages": "$PROFILE_PACKAGES",
  "root_serial": "magpie-root",
  "built_at": "$BUILT_AT"
}
EOF
if cmp -s -- "$manifest_tmp" "$OUT/manifest.json"; then
    rm -f -- "$manifest_tmp"
else
    mv -f -- "$manifest_tmp" "$OUT/manifest.json"
fi

elapsed=$(awk -v a="$START_SECONDS" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
log "done in ${elapsed} s: $OUT/{vmlinuz,initrd.img,rootfs.qcow2,manifest.json} (kernel $KERNEL_VERSION)"
