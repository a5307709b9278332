#!/usr/bin/python3
import json, os, stat, sys, heapq
root = '/workspace'
limit = int(os.environ.get('MAGPIE_LIMIT', '50'))
sizes = {}
entries = []
for dirpath, dirnames, filenames in os.walk(root, topdown=False):
    total = 0
    for f in filenames:
        p = os.path.join(dirpath, f)
        try:
            st = os.lstat(p)
        except OSError:
            continue
        n = st.st_blocks * 512
        total += n
        kind = 'symlink' if stat.S_ISLNK(st.st_mode) else 'file' if stat.S_ISREG(st.st_mode) else 'other'
        entries.append((n, os.path.relpath(p, root), kind))
    for d in dirnames:
        total += sizes.get(os.path.join(dirpath, d), 0)
    try:
        total += os.lstat(dirpath).st_blocks * 512
    except OSError:
        pass
    sizes[dirpath] = total
    if dirpath != root:
        entries.append((total, os.path.relpath(dirpath, root), 'dir'))
top = heapq.nlargest(limit, entries)
json.dump([{'name': os.path.basename(p), 'path': p, 'type': t, 'size': n} for n, p, t in top], sys.stdout)
