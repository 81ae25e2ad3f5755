"""The tools a machine needs to create environments (uv, packaging, py-rattler), pinned
as a flowenv environment of their own, so remote machines take them from the store."""

from __future__ import annotations

import os
import shutil
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Iterable, List

from .atomic import staging_dir
from .errors import FlowenvError


def tools_requirements(conda: bool) -> List[str]:
    """This machine's own tool versions, so every machine creates envs the same way."""
    names = ["uv", "packaging", "pyyaml"] + (["py-rattler"] if conda else [])
    pins = []
    for name in names:
        try:
            pins.append("%s==%s" % (name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            pins.append(name)
    return pins


def unpack_wheels(wheels: Iterable[Path], target: Path) -> Path:
    """Unpack wheels into target (importable with target on sys.path, scripts in
    target/bin). Built aside, then renamed: a half-unpacked folder is never used."""
    target = Path(target)
    if target.is_dir():
        return target
    with staging_dir(target) as tmp:
        _unpack(wheels, tmp)
    return target


def _unpack(wheels: Iterable[Path], tmp: Path) -> None:
    (tmp / "bin").mkdir(parents=True)
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            for info in zf.infolist():
                parts = info.filename.split("/")
                if parts[0].endswith(".data") and len(parts) > 2:
                    kind, rest = parts[1], parts[2:]
                    dest = tmp / "bin" / "/".join(rest) if kind == "scripts" else tmp / "/".join(rest)
                else:
                    dest = tmp / info.filename
                if info.is_dir():
                    continue
                if not os.path.realpath(dest).startswith(os.path.realpath(tmp) + os.sep):
                    raise FlowenvError("wheel %s holds %r, a path outside its folder"
                                       % (Path(wheel).name, info.filename))
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
                mode = (info.external_attr >> 16) & 0o777
                if mode or dest.parent.name == "bin":
                    os.chmod(dest, mode | 0o755 if dest.parent.name == "bin" else mode)
