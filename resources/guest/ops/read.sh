#!/bin/bash
target=$(realpath -m -- "/workspace/$MAGPIE_PATH") || exit 4
case "$target" in /workspace/*) ;; *) exit 3 ;; esac
[ -e "$target" ] || exit 4
[ -f "$target" ] || exit 5
size=$(stat -c %s -- "$target")
[ "$size" -le "$MAGPIE_MAX" ] || exit 6
exec cat -- "$target"
