"""Did the copy arrive intact? Compare two trees entry by entry.

For every entry (names as bytes, so any name compares): its type, permission bits
(including setuid/setgid/sticky), numeric owner and group, and then by type: a regular
file's size and SHA-256 of its content, a symlink's target, a device's number. Mtimes of
files and directories are compared at the resolution the contender promises: GNU tar's
default archive format keeps whole seconds, rsync -a and xfer keep nanoseconds. Symlink
mtimes and atimes are not compared (no contender here claims them).

The source manifest is computed once per dataset and reused for every copy.
"""

import hashlib
import os
import stat

_BUF = 1 << 20


def _sha256(path):
    h = hashlib.sha256()
    buf = bytearray(_BUF)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(view[:n])
    return h.hexdigest()


def _entry(path, st):
    mode = st.st_mode
    e = {"type": stat.S_IFMT(mode), "perm": stat.S_IMODE(mode), "uid": st.st_uid,
         "gid": st.st_gid, "mtime_ns": st.st_mtime_ns}
    if stat.S_ISREG(mode):
        e["size"] = st.st_size
        e["sha256"] = _sha256(path)
    elif stat.S_ISLNK(mode):
        e["target"] = os.readlink(path)
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        e["rdev"] = st.st_rdev
    return e


def manifest(root):
    """{relative path (bytes): entry} for root and everything under it."""
    root = os.fsencode(root)
    out = {b".": _entry(root, os.lstat(root))}
    stack = [b""]
    while stack:
        rel = stack.pop()
        with os.scandir(os.path.join(root, rel) if rel else root) as it:
            for de in it:
                r = os.path.join(rel, de.name) if rel else de.name
                st = de.stat(follow_symlinks=False)
                out[r] = _entry(de.path, st)
                if stat.S_ISDIR(st.st_mode):
                    stack.append(r)
    return out


def summarize(m):
    files = [e for e in m.values() if stat.S_ISREG(e["type"])]
    return {"entries": len(m), "files": len(files), "bytes": sum(e["size"] for e in files),
            "dirs": sum(1 for e in m.values() if stat.S_ISDIR(e["type"])),
            "symlinks": sum(1 for e in m.values() if stat.S_ISLNK(e["type"]))}


def _mtime_ok(src, dst, resolution):
    if stat.S_ISLNK(src["type"]):
        return True
    if resolution == "ns":
        return src["mtime_ns"] == dst["mtime_ns"]
    return src["mtime_ns"] // 10**9 == dst["mtime_ns"] // 10**9


def compare(src_manifest, dst_root, mtime_resolution):
    """None when dst_root matches, else a short reason (first few differences)."""
    if not os.path.lexists(dst_root):
        return f"{dst_root} does not exist"
    dst_manifest = manifest(dst_root)
    problems = []
    missing = src_manifest.keys() - dst_manifest.keys()
    extra = dst_manifest.keys() - src_manifest.keys()
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {os.fsdecode(sorted(missing)[0])})")
    if extra:
        problems.append(f"{len(extra)} unexpected (e.g. {os.fsdecode(sorted(extra)[0])})")
    diffs = {}
    for path in src_manifest.keys() & dst_manifest.keys():
        s, d = src_manifest[path], dst_manifest[path]
        for key in s:
            if key == "mtime_ns":
                bad = not _mtime_ok(s, d, mtime_resolution)
            else:
                bad = s[key] != d.get(key)
            if bad:
                diffs.setdefault(key, []).append(path)
    for key, paths in sorted(diffs.items()):
        problems.append(f"{key} differs on {len(paths)} (e.g. {os.fsdecode(sorted(paths)[0])})")
    return "; ".join(problems) or None
