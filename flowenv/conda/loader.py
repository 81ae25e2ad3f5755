"""py-rattler, imported only when conda packages are at hand."""

from __future__ import annotations

from ..errors import FlowenvError


def load_rattler():
    try:
        import rattler
    except ImportError as exc:  # a broken install: py-rattler is a dependency
        raise FlowenvError("conda packages need py-rattler, which is missing",
                           hint="pip install py-rattler") from exc
    return rattler
