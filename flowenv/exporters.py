"""A Lock in standard formats: PEP 751 pylock.toml, pinned requirements, conda @EXPLICIT."""

from __future__ import annotations

from .errors import FlowenvError
from .lock import Lock


def to_requirements(lock: Lock) -> str:
    lines = ["# flowenv environment %s (%s, Python %s)" % (lock.full_id, lock.platform, lock.python)]
    for f in lock.by_kind("wheel"):
        # A wheel built on the resolving machine is installed elsewhere from its source.
        sha = f.source_sha256 if f.source_url else f.sha256
        lines.append("%s==%s \\\n    --hash=sha256:%s" % (f.name, f.version, sha))
    return "\n".join(lines) + "\n"


def to_pylock(lock: Lock) -> str:
    def q(text):
        return '"%s"' % str(text).replace("\\", "\\\\").replace('"', '\\"')

    lines = ['lock-version = "1.0"', 'created-by = "flowenv"',
             "requires-python = %s" % q("==" + lock.python_minor + ".*"), ""]
    for f in lock.by_kind("wheel"):
        lines += ["[[packages]]", "name = %s" % q(f.name), "version = %s" % q(f.version)]
        if f.source_url:
            # Built here from a source distribution: the wheel exists only in the store, so
            # the exported lock names the source it can be built from, with its hash.
            lines.append("sdist = { name = %s, url = %s, hashes = { sha256 = %s } }"
                         % (q(f.source_url.rsplit("/", 1)[-1]), q(f.source_url),
                            q(f.source_sha256 or "")))
        else:
            size = ", size = %d" % f.size if f.size else ""
            lines.append("wheels = [{ name = %s, url = %s%s, hashes = { sha256 = %s } }]"
                         % (q(f.filename), q(f.url), size, q(f.sha256)))
        lines.append("")
    return "\n".join(lines)


def to_explicit(lock: Lock) -> str:
    conda = lock.by_kind("conda")
    if not conda:
        raise FlowenvError("Environment %s has no conda packages to export as @EXPLICIT" % lock.full_id)
    lines = ["# platform: %s" % lock.platform, "@EXPLICIT"]
    lines += ["%s#sha256=%s" % (f.url, f.sha256) for f in conda]
    return "\n".join(lines) + "\n"


FORMATS = {"requirements": to_requirements, "pylock": to_pylock, "explicit": to_explicit}


def export(lock: Lock, fmt: str) -> str:
    return FORMATS[fmt](lock)
