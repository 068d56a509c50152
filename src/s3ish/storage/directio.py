"""Appending to a new file with O_DIRECT: bytes go from an aligned staging buffer straight to
the device, skipping the page cache, which cost about 1 ms of kernel CPU per MiB here (1.09 s
vs 0.08 s of system time per GiB written and fsync'd). The unaligned tail is written through
the page cache when the file is finished. Filesystems without direct I/O (tmpfs) fall back to
ordinary writes."""
import fcntl
import mmap
import os

O_DIRECT = getattr(os, "O_DIRECT", 0)
ALIGN = 4096                       # direct I/O wants aligned buffers, offsets and lengths
STAGING = 1024 * 1024              # mmap memory is page-aligned


def open_new(path: str, direct: bool) -> tuple[int, bool]:
    """Create `path` (O_EXCL); with O_DIRECT when asked and possible. Returns (fd, direct)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    if direct and O_DIRECT:
        try:
            return os.open(path, flags | O_DIRECT, 0o644), True
        except OSError:     # EINVAL: no direct I/O on this filesystem
            pass
    return os.open(path, flags, 0o644), False


def write_all(fd: int, view) -> None:
    view = memoryview(view)
    while view:
        view = view[os.write(fd, view):]


class Appender:
    """Sequential writes to an fd opened by open_new()."""

    def __init__(self, fd: int, direct: bool):
        self.fd = fd
        self.direct = direct
        self._buf = mmap.mmap(-1, STAGING) if direct else None
        self._fill = 0                 # staged bytes not yet written

    def write(self, data) -> None:
        if not self.direct:
            write_all(self.fd, data)
            return
        view = memoryview(data)
        while view:
            take = min(STAGING - self._fill, len(view))
            self._buf[self._fill: self._fill + take] = view[:take]
            view = view[take:]
            self._fill += take
            aligned = self._fill - self._fill % ALIGN
            if aligned:
                write_all(self.fd, memoryview(self._buf)[:aligned])
                tail = self._fill - aligned
                self._buf[:tail] = self._buf[aligned: self._fill]
                self._fill = tail

    def finish(self) -> None:
        """Write the staged tail (through the page cache) and drop the staging buffer."""
        if self.direct:
            # Back to ordinary I/O: the tail, and any later rewrite of the file's start
            # (a streamed shard's header), need not be aligned.
            fcntl.fcntl(self.fd, fcntl.F_SETFL, fcntl.fcntl(self.fd, fcntl.F_GETFL) & ~O_DIRECT)
            if self._fill:
                write_all(self.fd, memoryview(self._buf)[: self._fill])
                self._fill = 0
            self.direct = False
        self.release()

    def release(self) -> None:
        if self._buf is not None:
            self._buf.close()
            self._buf = None
