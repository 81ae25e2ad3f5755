"""The core knows nothing of Metaflow and reads no environment variable of its own accord:
settings come in through flowenv.settings, read at the edges."""

from __future__ import annotations

import ast
from pathlib import Path

import flowenv

CORE = Path(flowenv.__file__).parent
# Modules allowed to read the process environment: the settings, the remote bootstrap,
# which is an edge (it runs as a program in the container), and the start-up hook copied
# into every environment (it runs in the environment's Python, not in flowenv).
ENVIRONMENT_READERS = {Path("settings.py"), Path("bootstrap.py"), Path("create/site_hook.py")}


def _modules():
    for path in sorted(CORE.rglob("*.py")):
        yield path.relative_to(CORE), ast.parse(path.read_text(), str(path))


def test_the_core_does_not_import_metaflow():
    offenders = []
    for rel, tree in _modules():
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += ["%s:%d %s" % (rel, node.lineno, n) for n in names
                          if n == "metaflow" or n.startswith(("metaflow.", "metaflow_extensions"))]
    assert offenders == []


def test_only_the_settings_and_the_edges_read_the_environment():
    offenders = []
    for rel, tree in _modules():
        if rel in ENVIRONMENT_READERS:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb") \
                    and isinstance(node.value, ast.Name) and node.value.id == "os":
                offenders.append("%s:%d os.%s" % (rel, node.lineno, node.attr))
            if isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                    a.name in ("environ", "getenv") for a in node.names):
                offenders.append("%s:%d from os import ..." % (rel, node.lineno))
    assert offenders == []
