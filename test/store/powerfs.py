#!/usr/bin/env python3
"""A filesystem that keeps only what was made durable, for the power-loss test (test/store/powerloss.test.ts).

Like a disk after a power cut: a file's data survives only as of its last fsync (or fdatasync), and a
directory's entries -- new files, renames, links, removals -- only as of the directory's last fsync. Until
then they live in this process alone. Kill it with SIGKILL (the power cut), mount the same state again,
and what was never made durable is gone; a name made durable for a file whose data never was is an empty
file, as on ext4.

Usage: powerfs.py STATE_DIR MOUNTPOINT     (runs in the foreground; prints `ready` once mounted)

The durable state is kept in STATE_DIR: data/INO (a file's content as of its last fsync), dirs/INO.json (a
directory's entries as of its last fsync), meta/INO.json (what an inode is). Inode numbers only grow, across
mounts, so stale state never passes for a new file's.
"""
import errno
import json
import os
import stat
import sys
import threading
import time

import llfuse

ROOT = llfuse.ROOT_INODE


class Inode:
    def __init__(self, ino, mode):
        self.ino = ino
        self.mode = mode
        self.data = bytearray()  # a file's content as the running system sees it
        self.entries = {}  # a directory's entries as the running system sees them: name (bytes) -> ino
        self.mtime = time.time_ns()

    @property
    def is_dir(self):
        return stat.S_ISDIR(self.mode)


class PowerFS(llfuse.Operations):
    def __init__(self, state):
        super().__init__()
        self.state = state
        self.lock = threading.Lock()
        for sub in ('data', 'dirs', 'meta'):
            os.makedirs(os.path.join(state, sub), exist_ok=True)
        self.inodes = {}
        self.handles = {}  # fh -> (ino, append)
        self.next_fh = 1
        self.load()

    # ---- the durable state ----

    def path(self, kind, ino, ext=''):
        return os.path.join(self.state, kind, f'{ino}{ext}')

    def save(self, path, content):
        # Atomic within the host (which keeps running): the simulated disk never holds half an fsync.
        tmp = path + '.tmp'
        with open(tmp, 'wb') as f:
            f.write(content)
        os.replace(tmp, path)

    def persist_meta(self, node):
        if not os.path.exists(self.path('meta', node.ino, '.json')):
            self.save(self.path('meta', node.ino, '.json'), json.dumps({'mode': node.mode}).encode())

    def load(self):
        seen = [ROOT]
        for kind in ('data', 'meta', 'dirs'):
            for name in os.listdir(os.path.join(self.state, kind)):
                if name.split('.')[0].isdigit():
                    seen.append(int(name.split('.')[0]))
        self.next_ino = max(seen) + 1

        def node(ino, mode):
            n = Inode(ino, mode)
            if n.is_dir:
                path = self.path('dirs', ino, '.json')
                if os.path.exists(path):
                    with open(path, 'rb') as f:
                        entries = json.load(f)
                    for name_hex, child in entries.items():
                        meta = self.path('meta', child, '.json')
                        with open(meta, 'rb') as f:
                            child_mode = json.load(f)['mode']
                        if child not in self.inodes:
                            node(child, child_mode)
                        n.entries[bytes.fromhex(name_hex)] = child
            else:
                path = self.path('data', ino)
                if os.path.exists(path):
                    with open(path, 'rb') as f:
                        n.data = bytearray(f.read())
            self.inodes[ino] = n
            return n

        node(ROOT, stat.S_IFDIR | 0o755)

    # ---- helpers ----

    def attrs(self, node):
        a = llfuse.EntryAttributes()
        a.st_ino = node.ino
        a.generation = 0
        a.entry_timeout = 0
        a.attr_timeout = 0
        a.st_mode = node.mode
        a.st_nlink = 1
        a.st_uid = os.getuid()
        a.st_gid = os.getgid()
        a.st_rdev = 0
        a.st_size = len(node.data) if not node.is_dir else 4096
        a.st_blksize = 4096
        a.st_blocks = (a.st_size + 511) // 512
        a.st_atime_ns = a.st_mtime_ns = a.st_ctime_ns = node.mtime
        return a

    def get(self, ino):
        node = self.inodes.get(ino)
        if node is None:
            raise llfuse.FUSEError(errno.ENOENT)
        return node

    def new(self, parent, name, mode):
        p = self.get(parent)
        if name in p.entries:
            raise llfuse.FUSEError(errno.EEXIST)
        node = Inode(self.next_ino, mode)
        self.next_ino += 1
        self.inodes[node.ino] = node
        p.entries[name] = node.ino
        p.mtime = time.time_ns()
        return node

    def handle(self, ino, append):
        fh = self.next_fh
        self.next_fh += 1
        self.handles[fh] = (ino, append)
        return fh

    # ---- operations ----

    def lookup(self, parent_inode, name, ctx):
        with self.lock:
            p = self.get(parent_inode)
            if name == b'.':
                return self.attrs(p)
            if name not in p.entries:
                raise llfuse.FUSEError(errno.ENOENT)
            return self.attrs(self.get(p.entries[name]))

    def getattr(self, inode, ctx):
        with self.lock:
            return self.attrs(self.get(inode))

    def setattr(self, inode, attr, fields, fh, ctx):
        with self.lock:
            node = self.get(inode)
            if fields.update_size:
                size = attr.st_size
                node.data = node.data[:size] + bytearray(max(0, size - len(node.data)))
            if fields.update_mode:
                node.mode = (node.mode & ~0o7777) | (attr.st_mode & 0o7777)
            if fields.update_mtime:
                node.mtime = attr.st_mtime_ns
            return self.attrs(node)

    def access(self, inode, mode, ctx):
        return True

    def opendir(self, inode, ctx):
        with self.lock:
            self.get(inode)
            return self.handle(inode, False)

    def readdir(self, fh, off):
        with self.lock:
            ino = self.handles[fh][0]
            entries = sorted(self.get(ino).entries.items())
            listing = [(name, self.attrs(self.get(child))) for name, child in entries]
        for i, (name, attrs) in enumerate(listing):
            if i >= off:
                yield name, attrs, i + 1

    def releasedir(self, fh):
        with self.lock:
            self.handles.pop(fh, None)

    def mkdir(self, parent_inode, name, mode, ctx):
        with self.lock:
            return self.attrs(self.new(parent_inode, name, stat.S_IFDIR | (mode & 0o7777)))

    def rmdir(self, parent_inode, name, ctx):
        with self.lock:
            p = self.get(parent_inode)
            child = self.get(p.entries.get(name, -1))
            if child.entries:
                raise llfuse.FUSEError(errno.ENOTEMPTY)
            del p.entries[name]

    def create(self, parent_inode, name, mode, flags, ctx):
        with self.lock:
            node = self.new(parent_inode, name, stat.S_IFREG | (mode & 0o7777))
            return self.handle(node.ino, bool(flags & os.O_APPEND)), self.attrs(node)

    def open(self, inode, flags, ctx):
        with self.lock:
            node = self.get(inode)
            if flags & os.O_TRUNC:
                node.data = bytearray()
            return self.handle(inode, bool(flags & os.O_APPEND))

    def read(self, fh, off, size):
        with self.lock:
            return bytes(self.get(self.handles[fh][0]).data[off:off + size])

    def write(self, fh, off, buf):
        with self.lock:
            ino, append = self.handles[fh]
            node = self.get(ino)
            if append:
                off = len(node.data)
            if off > len(node.data):
                node.data.extend(bytearray(off - len(node.data)))
            node.data[off:off + len(buf)] = buf
            node.mtime = time.time_ns()
            return len(buf)

    def flush(self, fh):
        pass

    def release(self, fh):
        with self.lock:
            self.handles.pop(fh, None)

    def fsync(self, fh, datasync):
        with self.lock:
            node = self.get(self.handles[fh][0])
            self.persist_meta(node)
            self.save(self.path('data', node.ino), bytes(node.data))

    def fsyncdir(self, fh, datasync):
        with self.lock:
            node = self.get(self.handles[fh][0])
            for child in node.entries.values():
                self.persist_meta(self.get(child))
            self.persist_meta(node)
            entries = {name.hex(): child for name, child in node.entries.items()}
            self.save(self.path('dirs', node.ino, '.json'), json.dumps(entries).encode())

    def unlink(self, parent_inode, name, ctx):
        with self.lock:
            p = self.get(parent_inode)
            if name not in p.entries:
                raise llfuse.FUSEError(errno.ENOENT)
            del p.entries[name]

    def rename(self, parent_inode_old, name_old, parent_inode_new, name_new, ctx):
        with self.lock:
            old = self.get(parent_inode_old)
            new = self.get(parent_inode_new)
            if name_old not in old.entries:
                raise llfuse.FUSEError(errno.ENOENT)
            new.entries[name_new] = old.entries.pop(name_old)

    def link(self, inode, new_parent_inode, new_name, ctx):
        with self.lock:
            p = self.get(new_parent_inode)
            if new_name in p.entries:
                raise llfuse.FUSEError(errno.EEXIST)
            p.entries[new_name] = inode
            return self.attrs(self.get(inode))

    def statfs(self, ctx):
        s = llfuse.StatvfsData()
        s.f_bsize = s.f_frsize = 4096
        s.f_blocks = s.f_bfree = s.f_bavail = 1 << 20
        s.f_files = s.f_ffree = s.f_favail = 1 << 20
        s.f_namemax = 255
        return s


def main():
    state, mountpoint = sys.argv[1], sys.argv[2]
    fs = PowerFS(state)
    options = set(llfuse.default_options)
    options.discard('default_permissions')
    options.add('fsname=powerfs')
    llfuse.init(fs, mountpoint, options)
    # The mount is there: say so, and the test goes on at once (no polling).
    print('ready', flush=True)
    try:
        llfuse.main(workers=1)
    finally:
        llfuse.close()


if __name__ == '__main__':
    main()
