"""Which wheel a target installs: the best compatible one, or a clear error."""

from __future__ import annotations

import pytest

from flowenv.errors import ResolveError
from flowenv.platforms import Target
from flowenv.resolve.wheels import pick_wheel, tag_priority

LINUX = Target("linux-64", "3.11.7")
SHA = "ab" * 32


def package(*filenames, version="1.0"):
    return {"name": "pkg", "version": version,
            "wheels": [{"url": "https://files.example.com/%s" % f, "hashes": {"sha256": SHA},
                        "size": 10} for f in filenames]}


def test_the_most_specific_compatible_wheel_wins():
    entry = package("pkg-1.0-py3-none-any.whl", "pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                    "pkg-1.0-cp311-cp311-macosx_11_0_arm64.whl")
    chosen = pick_wheel(entry, "pkg", LINUX, tag_priority(LINUX))
    assert chosen.filename == "pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
    assert chosen.sha256 == SHA and chosen.size == 10 and chosen.kind == "wheel"


def test_no_compatible_wheel_is_an_error_not_a_wrong_pick():
    entry = package("pkg-1.0-cp311-cp311-macosx_11_0_arm64.whl",
                    "pkg-1.0-cp312-cp312-manylinux_2_17_x86_64.whl")
    with pytest.raises(ResolveError) as err:
        pick_wheel(entry, "pkg", LINUX, tag_priority(LINUX))
    message = str(err.value)
    assert "pkg" in message and "linux-64" in message and "3.11.7" in message
    assert "macosx_11_0_arm64" in message  # says what there is


def test_a_wheel_newer_than_the_targets_glibc_is_not_picked():
    entry = package("pkg-1.0-cp311-cp311-manylinux_2_99_x86_64.whl")
    with pytest.raises(ResolveError):
        pick_wheel(entry, "pkg", LINUX, tag_priority(LINUX))


def test_credentials_in_a_wheel_url_are_not_kept():
    entry = package("pkg-1.0-py3-none-any.whl")
    entry["wheels"][0]["url"] = "https://user:secret@files.example.com/pkg-1.0-py3-none-any.whl"
    chosen = pick_wheel(entry, "pkg", LINUX, tag_priority(LINUX))
    assert "secret" not in chosen.url and "user" not in chosen.url


def test_a_wheel_without_sha256_is_refused():
    entry = package("pkg-1.0-py3-none-any.whl")
    entry["wheels"][0]["hashes"] = {}
    with pytest.raises(ResolveError, match="sha256"):
        pick_wheel(entry, "pkg", LINUX, tag_priority(LINUX))


def test_a_requested_glibc_caps_the_manylinux_level():
    entry = package("pkg-1.0-py3-none-manylinux_2_28_x86_64.whl",
                    "pkg-1.0-py3-none-manylinux_2_17_x86_64.whl")
    old = Target("linux-64", "3.11.7", glibc=(2, 17))
    assert pick_wheel(entry, "pkg", old, tag_priority(old)).filename == (
        "pkg-1.0-py3-none-manylinux_2_17_x86_64.whl")
    new = Target("linux-64", "3.11.7", glibc=(2, 31))
    assert pick_wheel(entry, "pkg", new, tag_priority(new)).filename == (
        "pkg-1.0-py3-none-manylinux_2_28_x86_64.whl")
