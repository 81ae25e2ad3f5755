"""Package files from the store to this machine, as fast as the disk and the network
allow and never trusted before they are verified.

Files are fetched many at once (a bounded number of reads in flight), a large file in
ranged parts read in parallel; bytes are written where they belong as they arrive and
hashed while they stream (part 0 as it arrives, later parts as soon as every part before
them is in), so a file is verified the moment its last byte lands. A read that fails
for a transient reason (a dropped connection, a timeout, a throttled service) starts its
part over, a few times, with backoff. A file is renamed into place only once its sha256
matches the lock. Memory stays at about one chunk per read in flight, whatever the
files' sizes. Finished files are handed over in batches as they complete, so a caller
can install the first ones while later ones still arrive.
"""

from __future__ import annotations

import hashlib
import os
import queue
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from ..atomic import FILE_MODE, os_error, temporary_file
from ..errors import FlowenvError, IntegrityError, StoreError
from ..lock import LockedFile
from ..progress import SILENT, Progress
from ..verify import mark_verified
from .blobs import CHUNK
from .packages import REPAIR, PackageStore

# A file larger than this is read in parts of this size, in parallel.
PART_SIZE = 32 << 20
RETRIES = 4
BACKOFF = 0.2  # seconds before the first retry; doubled each time

# What to fetch and where: a LockedFile, or any blob of the package area with the same
# `sha256` and `size` (None: asked of the store) and a `label` for messages.
Item = Tuple[LockedFile, Path]


class _Cancelled(Exception):
    """Another file failed: the work in flight stops."""


def describe(item) -> str:
    """A locked file as 'name version (filename)'; any other blob by its label."""
    if isinstance(item, LockedFile):
        return "%s %s (%s)" % (item.name, item.version, item.filename)
    return item.label


class _PartWriter:
    """The file-like a backend streams one part into: positioned writes, the running
    sha256 when the part is at the hash frontier, and the meter."""

    def __init__(self, job: "_Job", fd: int, offset: int, digest=None):
        self.job = job
        self.fd = fd
        self.position = offset
        self.digest = digest
        self.count = 0

    def write(self, data) -> int:
        if self.job.cancelled.is_set():
            raise _Cancelled()
        view = memoryview(data)
        while view:
            written = os.pwrite(self.fd, view, self.position)
            self.position += written
            view = view[written:]
        if self.digest is not None:
            self.digest.update(data)
        self.count += len(data)
        self.job.meter.advance(len(data))
        return len(data)


class _File:
    def __init__(self, file: LockedFile, dest: Path, tmp: Path):
        self.file = file
        self.dest = dest
        self.tmp = tmp
        self.fd: Optional[int] = None
        self.size: Optional[int] = None
        self.parts: List[Tuple[int, int]] = []
        self.done = set()
        self.frontier = 0  # parts [0, frontier) are hashed
        self.hashing = False
        self.digest = hashlib.sha256()
        self.lock = threading.Lock()


class _Job:
    def __init__(self, meter_context, count: int):
        self._meter_context = meter_context
        self.meter = meter_context.__enter__()
        self._left = count
        self._meter_open = True
        self.cancelled = threading.Event()
        self.finished: "queue.Queue" = queue.Queue()
        self.error: Optional[BaseException] = None
        self.error_lock = threading.Lock()

    def file_done(self) -> None:
        """The meter's summary is printed when the last file lands, not when the caller
        is done with the batch."""
        self.meter.item_done()
        with self.error_lock:
            self._left -= 1
            last = self._left == 0
        if last:
            self.close_meter(None, None, None)

    def close_meter(self, *exc_info) -> None:
        with self.error_lock:
            if not self._meter_open:
                return
            self._meter_open = False
            if self._left and exc_info[1] is None:  # left early: no summary of a partial fetch
                exc_info = (_Cancelled, _Cancelled(), None)
        self._meter_context.__exit__(*exc_info)

    def fail(self, exc: BaseException) -> None:
        with self.error_lock:
            if self.error is None and not isinstance(exc, _Cancelled):
                self.error = exc
        self.cancelled.set()
        self.finished.put(None)


class Fetching:
    """Files on their way, as a context manager: next_batch() gives the files done since
    the last call; leaving stops whatever is still in flight and removes its partial
    files. The first failure stops the rest and is raised by next_batch()."""

    def __init__(self, transfer: "Transfer", items: List[Item], what: str):
        self.remaining = len(items)
        self._stack = ExitStack()
        if not items:
            return
        total = sum(f.size for f, _ in items if f.size is not None)
        try:
            self._job = job = _Job(transfer.progress.meter(
                "Fetching %d %s" % (len(items), what),
                total_bytes=total or None, total_items=len(items)), len(items))
            self._stack.push(job.close_meter)
            files = [_File(f, Path(d), self._stack.enter_context(temporary_file(d)))
                     for f, d in items]
            self._stack.callback(_close_all, files)
            pool = self._stack.enter_context(ThreadPoolExecutor(
                transfer.concurrency, thread_name_prefix="flowenv-fetch"))
            self._stack.callback(job.cancelled.set)  # first on the way out: stop the workers
            # Largest first: the longest file starts at once, small ones fill the gaps.
            for f in sorted(files, key=lambda f: -(f.file.size or 0)):
                pool.submit(transfer._guard, job, transfer._start, job, pool, f)
        except BaseException:
            self._stack.close()
            raise

    def next_batch(self) -> List[Item]:
        """Block until at least one more file is done; every file done since the last
        call, or [] when none remain."""
        if not self.remaining:
            return []
        job = self._job
        batch = [job.finished.get()]
        while True:
            try:
                batch.append(job.finished.get_nowait())
            except queue.Empty:
                break
        if job.error is not None or None in batch:
            raise job.error or StoreError("fetching from the store was interrupted")
        self.remaining -= len(batch)
        return [(f.file, f.dest) for f in batch]

    def __enter__(self) -> "Fetching":
        return self

    def __exit__(self, *exc_info) -> bool:
        return self._stack.__exit__(*exc_info)


class Transfer:
    def __init__(self, packages: PackageStore, concurrency: int = 8,
                 progress: Progress = SILENT, part_size: int = PART_SIZE,
                 retries: int = RETRIES):
        self.packages = packages
        self.blobs = packages.blobs
        self.concurrency = max(1, int(concurrency))
        self.progress = progress
        self.part_size = max(CHUNK, int(part_size))
        self.retries = retries

    def fetch_all(self, items: Sequence[Item], what: str = "package files") -> None:
        with self.start(items, what) as fetching:
            while fetching.remaining:
                fetching.next_batch()

    def start(self, items: Sequence[Item], what: str = "package files") -> "Fetching":
        """Start fetching every (file, dest) pair, in the background."""
        return Fetching(self, list(items), what)

    # -- workers ----------------------------------------------------------------------

    @staticmethod
    def _guard(job: _Job, function, *args) -> None:
        if job.cancelled.is_set():
            return
        try:
            function(*args)
        except BaseException as exc:  # handed to the consumer, which raises it
            job.fail(exc)

    def _start(self, job: _Job, pool, f: _File) -> None:
        key = self.packages.key(f.file.sha256)
        f.size = f.file.size
        if f.size is None:
            f.size = self._retrying(job, f, lambda: self.blobs.size(key))
            if f.size is None:
                raise self._missing(f.file)
            job.meter.add_bytes_total(f.size)
        try:
            f.fd = os.open(str(f.tmp), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
            if f.size:
                os.ftruncate(f.fd, f.size)
        except OSError as exc:  # this machine's side: the cache cannot be written
            raise os_error(exc, "write the local copy of %s to" % describe(f.file),
                           f.dest.parent) from exc
        f.parts = [(o, min(self.part_size, f.size - o))
                   for o in range(0, f.size, self.part_size)] or [(0, 0)]
        for index in range(1, len(f.parts)):
            pool.submit(self._guard, job, self._part, job, f, index)
        self._part(job, f, 0)

    def _part(self, job: _Job, f: _File, index: int) -> None:
        key = self.packages.key(f.file.sha256)
        offset, length = f.parts[index]

        def attempt():
            if index == 0:
                f.digest = hashlib.sha256()
            writer = _PartWriter(job, f.fd, offset, f.digest if index == 0 else None)
            try:
                if not self.blobs.read_range(key, offset, length, writer):
                    raise self._missing(f.file)
                if writer.count != length:
                    raise _ShortRead(writer.count, length)
            except BaseException:
                job.meter.advance(-writer.count)
                raise

        self._retrying(job, f, attempt)
        self._part_done(job, f, index)

    def _retrying(self, job: _Job, f: _File, function):
        delay = BACKOFF
        for attempt in range(self.retries + 1):
            try:
                return function()
            except (_Cancelled, FlowenvError):
                raise
            except Exception as exc:
                transient = isinstance(exc, _ShortRead) or self.blobs.is_transient(exc)
                if not transient or attempt == self.retries:
                    raise self._failed(f, exc, attempt + 1) from exc
            if job.cancelled.wait(delay * random.uniform(0.8, 1.2)):
                raise _Cancelled()
            delay *= 2

    def _part_done(self, job: _Job, f: _File, index: int) -> None:
        with f.lock:
            f.done.add(index)
            if f.hashing:
                return  # the thread holding the frontier will reach it
            f.hashing = True
        while True:
            with f.lock:
                if f.frontier not in f.done:
                    f.hashing = False
                    return
                position = f.frontier
            if position > 0:  # part 0 was hashed as it streamed
                self._hash_back(job, f, *f.parts[position])
            with f.lock:
                f.frontier += 1
                if f.frontier == len(f.parts):
                    f.hashing = False
                    break
        self._finish(job, f)

    @staticmethod
    def _hash_back(job: _Job, f: _File, offset: int, length: int) -> None:
        # Read back what is on disk (from the page cache): the bytes that will be used.
        with open(f.tmp, "rb") as written:
            written.seek(offset)
            while length > 0:
                if job.cancelled.is_set():
                    raise _Cancelled()
                chunk = written.read(min(CHUNK, length))
                if not chunk:
                    break
                f.digest.update(chunk)
                length -= len(chunk)

    def _finish(self, job: _Job, f: _File) -> None:
        os.close(f.fd)
        f.fd = None
        actual = f.digest.hexdigest()
        if actual != f.file.sha256:
            raise IntegrityError(
                "the copy from the store at %s has sha256 %s, but the lock says %s: the file "
                "was changed or corrupted" % (self.blobs.url, actual, f.file.sha256),
                package=describe(f.file), hint=REPAIR)
        os.replace(f.tmp, f.dest)
        mark_verified(f.dest)
        job.finished.put(f)
        job.file_done()

    def _missing(self, file) -> IntegrityError:
        return IntegrityError("it is missing from the store at %s" % self.blobs.url,
                              package=describe(file), hint=REPAIR)

    def _failed(self, f: _File, exc: Exception, tries: int) -> FlowenvError:
        file = f.file
        if isinstance(exc, _ShortRead):
            return IntegrityError(
                "the store at %s gave %d bytes where the lock expects %d (%d tries)"
                % (self.blobs.url, exc.got, exc.expected, tries),
                package=describe(file), hint=REPAIR)
        if isinstance(exc, OSError) and not self.blobs.is_transient(exc):
            return os_error(exc, "write the local copy of %s to" % describe(file), f.dest.parent)
        return StoreError("reading %s from the store at %s failed%s: %s" % (
            describe(file), self.blobs.url, " after %d tries" % tries if tries > 1 else "",
            str(exc).strip() or type(exc).__name__))


class _ShortRead(Exception):
    def __init__(self, got: int, expected: int):
        super().__init__("%d of %d bytes" % (got, expected))
        self.got = got
        self.expected = expected


def _close_all(files: Sequence[_File]) -> None:
    for f in files:
        if f.fd is not None:
            try:
                os.close(f.fd)
            except OSError:
                pass
            f.fd = None
