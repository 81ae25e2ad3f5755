"""Bytecode: compiled once, across cores, and shared through the store per package.

Compiling a large environment costs more CPU than unpacking its wheels (PyTorch's 8,000
modules: about 20 s of CPU, against 12 s to inflate 5 GB). So the first machine that
installs a package compiles it into checked-hash .pyc files (valid wherever the same
sources are, whatever their paths and mtimes) and stores them as one archive per package
file and Python version; later machines, and later environments sharing the package,
unpack it instead of compiling (PyTorch's environment: about 200 MB of .pyc).

A shared .pyc can only speed an import up, never change what runs: Python checks each
checked-hash .pyc against its source's hash and ignores it when they differ, and
unpacking refuses anything but checked-hash .pyc files in __pycache__ folders of the
environment's site-packages.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List, Sequence, Tuple

from ..atomic import temporary_file, write_bytes
from ..cache import LocalCache
from ..errors import CreateError, FlowenvError
from ..lock import Lock, LockedFile
from ..progress import Progress
from ..store import Store
from ..store.bytecode import decode, encode, record_of
from ..verify import mark_verified

# .pyc header: magic (4 bytes), flags (4 bytes little-endian); flags 0b11 = hash-based,
# checked against the source.
_CHECKED_HASH = 3
_PROBE = ("import sys, importlib.util; "
          "print(sys.implementation.cache_tag, importlib.util.MAGIC_NUMBER.hex())")
_COMPILER = Path(__file__).with_name("compile_missing.py")


def python_key(python_minor: str) -> str:
    """The store's name for the Python a pack is for."""
    return "cpython-%s" % python_minor


def probe(python: Path) -> Tuple[str, str]:
    """(cache tag, .pyc magic number) of an interpreter: an archive is only used where
    the magic number matches."""
    proc = subprocess.run([str(python), "-I", "-c", _PROBE], capture_output=True, text=True)
    if proc.returncode != 0:
        raise CreateError("cannot run %s: %s" % (python, proc.stderr.strip()))
    tag, magic = proc.stdout.split()
    return tag, magic


def site_packages(prefix: Path) -> List[Path]:
    return sorted(Path(prefix).glob("lib/python*/site-packages"))


def compile_missing(python: Path, prefix: Path) -> None:
    """Compile every module of site-packages that has no .pyc yet, on every core. A module
    that does not compile (a template, a file for another Python) is skipped, as pip and
    uv do."""
    folders = [str(p) for p in site_packages(prefix)]
    if folders:
        subprocess.run([str(python), "-I", str(_COMPILER), *folders],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def package_pycs(prefix: Path, wheel_filename: str, cache_tag: str) -> List[str]:
    """The .pyc files (relative to prefix) of an installed wheel's modules, from its
    RECORD; [] when the wheel's metadata is not found."""
    name, version = wheel_filename.split("-")[:2]
    wanted = ("%s-%s.dist-info" % (name, version)).lower()
    pycs = []
    for folder in site_packages(prefix):
        info = [d for d in os.listdir(folder) if d.lower() == wanted]
        if not info:
            continue
        try:
            rows = list(csv.reader(io.StringIO(
                (folder / info[0] / "RECORD").read_text(encoding="utf-8"))))
        except (OSError, UnicodeDecodeError, csv.Error):
            return []
        base = folder.relative_to(prefix).as_posix()
        for row in rows:
            path = row[0] if row else ""
            if path.endswith(".py") and not path.startswith(("/", "..")):
                head, _, stem = path[:-3].rpartition("/")
                pyc = "%s/%s__pycache__/%s.%s.pyc" % (base, head + "/" if head else "",
                                                     stem, cache_tag)
                if (prefix / pyc).is_file():
                    pycs.append(pyc)
    return sorted(set(pycs))


def pack(prefix: Path, pycs: List[str], archive: Path) -> str:
    """These .pyc files (relative to prefix) into archive; its sha256."""
    prefix = Path(prefix)
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        for pyc in pycs:
            info = tar.gettarinfo(str(prefix / pyc), arcname=pyc)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with open(prefix / pyc, "rb") as f:
                tar.addfile(info, f)
    digest = hashlib.sha256()
    with open(archive, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def unpack(archive: Path, prefix: Path) -> int:
    """The archive's .pyc files into prefix; the count. Refuses, with a CreateError,
    anything but checked-hash .pyc files in __pycache__ folders of site-packages."""
    prefix = Path(prefix)
    allowed = [p.relative_to(prefix).as_posix() + "/" for p in site_packages(prefix)]
    count = 0
    with tarfile.open(archive, "r:") as tar:
        for member in tar:
            _check(member, allowed)
            source = tar.extractfile(member)
            head = source.read(16)
            if len(head) < 16 or int.from_bytes(head[4:8], "little") != _CHECKED_HASH:
                raise CreateError("the shared bytecode holds %s, which is not a checked-hash "
                                  ".pyc" % member.name)
            target = prefix / member.name
            if not target.parent.parent.is_dir():  # its package is not installed here
                raise CreateError("the shared bytecode holds %s, for a package this "
                                  "environment does not have" % member.name)
            target.parent.mkdir(exist_ok=True)
            with open(target, "wb") as out:
                out.write(head)
                while True:
                    chunk = source.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk)
            count += 1
    return count


def _check(member: tarfile.TarInfo, allowed: List[str]) -> None:
    name = member.name
    parts = name.split("/")
    if (not member.isfile() or name.startswith("/") or ".." in parts
            or not name.endswith(".pyc") or len(parts) < 2 or parts[-2] != "__pycache__"
            or not any(name.startswith(a) for a in allowed)):
        raise CreateError("the shared bytecode holds %r, which is not a .pyc file of this "
                          "environment's site-packages" % name)


class Archive:
    """A package's shared bytecode archive, as the transfer fetches it (a blob of the
    store's package area, with sha256, size and label)."""

    def __init__(self, wheel: LockedFile, record: dict, python: str, cache: LocalCache):
        self.wheel = wheel
        self.record = record
        self.sha256 = record["sha256"]
        self.size = record["size"]
        self.path = cache.blob_path(self.sha256, "bytecode.tar")
        self.local_record = cache.bytecode_record(wheel.sha256, python)
        self.label = "the bytecode of %s %s" % (wheel.name, wheel.version)


class SharedBytecode:
    """The bytecode step of creation: which archives exist, then unpack them, compile
    the rest, and share what was compiled."""

    def __init__(self, store: Store, cache: LocalCache, progress: Progress, concurrency: int,
                 share: bool):
        self.store = store
        self.cache = cache
        self.progress = progress
        self.concurrency = concurrency
        self.share = share

    def archives(self, lock: Lock) -> List[Archive]:
        """The shared archives of the lock's wheels: this machine's record of each, else
        the store's (looked up in parallel), to fetch with the packages."""
        python = python_key(lock.python_minor)

        def find(wheel: LockedFile):
            try:
                return decode(self.cache.bytecode_record(wheel.sha256, python).read_bytes())
            except (OSError, ValueError):
                pass
            try:
                return self.store.bytecode.get(wheel.sha256, python)
            except FlowenvError:  # a damaged record: compiling is always safe
                return None

        wheels = lock.by_kind("wheel")
        with ThreadPoolExecutor(self.concurrency) as pool:
            records = list(pool.map(find, wheels))
        return [Archive(w, r, python, self.cache) for w, r in zip(wheels, records) if r]

    def apply(self, lock: Lock, prefix: Path, archives: Sequence[Archive]) -> None:
        """Once the packages are installed and the archives fetched."""
        python = Path(prefix) / "bin" / "python"
        tag, magic = probe(python)
        usable = [a for a in archives if a.record["magic"] == magic]
        if usable:
            with self.progress.meter("Unpacking shared bytecode", total_items=len(usable),
                                     unit="packages") as meter:
                def unpack_one(archive: Archive) -> None:
                    try:
                        unpack(archive.path, prefix)
                        write_bytes(archive.local_record, encode(archive.record))
                    except CreateError as exc:  # refused: compiled below instead
                        self.progress.say("%s; compiling instead" % exc.within(
                            package=archive.label))
                    meter.item_done()

                with ThreadPoolExecutor(min(4, self.concurrency)) as pool:
                    list(pool.map(unpack_one, usable))
        with self.progress.task("Compiling bytecode"):
            compile_missing(python, prefix)
        if self.share:
            known = {id(a.wheel) for a in archives}
            self._share([w for w in lock.by_kind("wheel") if id(w) not in known], prefix,
                        python_key(lock.python_minor), tag, magic)

    def _share(self, wheels: Sequence[LockedFile], prefix: Path, python: str, tag: str,
               magic: str) -> None:
        """Pack each wheel's .pyc files, keep the archive here and put it in the store. Only
        an optimisation for others: a failure is reported, never fatal."""
        def share_one(wheel: LockedFile) -> None:
            pycs = package_pycs(prefix, wheel.filename, tag)
            if not pycs:
                return
            # Packed beside the wheel's own copy, then named by its own sha256.
            with temporary_file(self.cache.package_path(wheel)) as tmp:
                sha256 = pack(prefix, pycs, tmp)
                path = self.cache.blob_path(sha256, "bytecode.tar")
                path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, path)
            mark_verified(path)
            record = record_of(sha256, path.stat().st_size, magic, len(pycs))
            self.store.bytecode.put(wheel.sha256, python, path, record)
            write_bytes(self.cache.bytecode_record(wheel.sha256, python), encode(record))

        if not wheels:
            return
        try:
            with self.progress.task("Sharing the bytecode of %d packages through the store"
                                    % len(wheels)):
                with ThreadPoolExecutor(self.concurrency) as pool:
                    list(pool.map(share_one, wheels))
        except (FlowenvError, OSError) as exc:
            self.progress.say("Could not share the bytecode: %s" % exc)
