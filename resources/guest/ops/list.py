#!/usr/bin/python3
import json, os, stat, sys, datetime
root = '/workspace'
rel = os.environ.get('MAGPIE_PATH', '')
target = os.path.realpath(os.path.join(root, rel))
if target != root and not target.startswith(root + '/'):
    sys.exit(3)
if not os.path.lexists(target):
    sys.exit(4)
if not os.path.isdir(target):
    sys.exit(5)
out = []
with os.scandir(target) as it:
    for e in it:
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode): kind = 'dir'
        elif stat.S_ISLNK(st.st_mode): kind = 'symlink'
        elif stat.S_ISREG(st.st_mode): kind = 'file'
        else: kind = 'other'
        p = os.path.relpath(os.path.join(target, e.name), root)
        t = datetime.datetime.fromtimestamp(st.st_mtime, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (int(st.st_mtime * 1000) % 1000)
        out.append({'name': e.name, 'path': p, 'type': kind, 'size': st.st_size, 'modified_at': t})
out.sort(key=lambda x: (x['type'] != 'dir', x['name']))
json.dump(out, sys.stdout)
