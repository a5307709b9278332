#!/bin/bash
# Grows the mounted ext4 file system to fill its (already enlarged) disk, online.
set -u
dev=$(awk '$2 == "/workspace" { print $1 }' /proc/mounts)
[ -n "$dev" ] || { echo "/workspace is not mounted from a disk" >&2; exit 1; }
resize2fs "$dev" >&2 || exit 1
df -B1 --output=size /workspace | tail -n 1 | tr -d ' '
