"""A local source folder: its files, the digest of their content, a clean copy."""

from __future__ import annotations

import os

import pytest

from flowenv.errors import SpecError
from flowenv.local_tree import check_source, content_digest, copy_source, source_files
from tests.wheelhouse import git, make_project

ENV = {"PATH": os.environ["PATH"]}


def test_digest_follows_content_not_place_or_clutter(tmp_path):
    a = make_project(tmp_path / "a" / "lib", "lib", "1.0")
    b = make_project(tmp_path / "elsewhere" / "b", "lib", "1.0")
    assert content_digest(a, "a", ENV) == content_digest(b, "b", ENV)
    for clutter in ("lib/__pycache__/x.pyc", ".venv/bin/python", "build/lib/x.py",
                    "lib.egg-info/PKG-INFO", ".git/HEAD"):
        (b / clutter).parent.mkdir(parents=True, exist_ok=True)
        (b / clutter).write_text("clutter")
    assert content_digest(a, "a", ENV) == content_digest(b, "b", ENV)
    (b / "lib" / "new.py").write_text("X = 1\n")
    assert content_digest(a, "a", ENV) != content_digest(b, "b", ENV)


def test_git_work_tree_uses_gits_files(tmp_path):
    repo = make_project(tmp_path / "repo", "lib", "1.0")
    git(repo, "init", "--quiet")
    (repo / ".gitignore").write_text("data/\n")
    (repo / "data").mkdir()
    (repo / "data" / "big.bin").write_bytes(b"0" * 1000)
    files = source_files(repo, ENV)
    assert "lib/__init__.py" in files and ".gitignore" in files
    assert not any(f.startswith("data/") for f in files)
    copy_source(repo, tmp_path / "copy", ENV)
    assert sorted(p.relative_to(tmp_path / "copy").as_posix()
                  for p in (tmp_path / "copy").rglob("*") if p.is_file()) == files


def test_not_a_project(tmp_path):
    (tmp_path / "notes").mkdir()
    with pytest.raises(SpecError, match="not a Python project"):
        check_source(tmp_path / "notes", "./notes")
    with pytest.raises(SpecError, match="does not exist"):
        check_source(tmp_path / "missing", "./missing")
