#!/bin/bash
# Deletes /workspace/$MAGPIE_PATH (a file, a symlink itself, or a folder with everything in it).
# Exit codes: 3 the path leads outside the workspace, 4 not found.
set -u
name=${MAGPIE_PATH##*/}
dir=/workspace
case "$MAGPIE_PATH" in */*) dir=/workspace/${MAGPIE_PATH%/*} ;; esac
[ -n "$name" ] || exit 3
parent=$(realpath -e -- "$dir" 2>/dev/null) || exit 4
case "$parent/" in /workspace/*) ;; *) exit 3 ;; esac
[ -e "$parent/$name" ] || [ -L "$parent/$name" ] || exit 4
[ "$parent/$name" = /workspace/lost+found ] && exit 3
rm -rf -- "$parent/$name" || exit 1
