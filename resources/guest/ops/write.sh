#!/bin/bash
# Writes stdin to /workspace/$MAGPIE_PATH (parent folders created). Exit codes: 3 the path leads
# outside the workspace, 5 a folder is in the way (or the target is a folder), 7 no space left.
set -u
target=$(realpath -m -- "/workspace/$MAGPIE_PATH") || exit 3
case "$target" in /workspace/?*) ;; *) exit 3 ;; esac
parent=${target%/*}
mkdir -p -- "$parent" 2>/dev/null || exit 5
real=$(realpath -e -- "$parent") || exit 5
case "$real/" in /workspace/*) ;; *) exit 3 ;; esac
[ -d "$target" ] && exit 5
tmp=$(mktemp -p "$real" .magpie-upload.XXXXXX) || exit 7
if ! cat >"$tmp"; then rm -f -- "$tmp"; exit 7; fi
if [ -e "$target" ]; then chmod --reference="$target" -- "$tmp"; else chmod 0644 -- "$tmp"; fi
sync -f "$tmp" 2>/dev/null
mv -f -- "$tmp" "$target" || { rm -f -- "$tmp"; exit 7; }
stat -c '{"path":"%n","size":%s}' -- "$target" | sed 's|"/workspace/|"|'
