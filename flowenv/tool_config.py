"""The index settings teams already keep in pip's and uv's own configuration files, read
for flowenv's Settings (at the edge: uv itself always runs with --no-config, so these
reach it only as explicit arguments, part of the requirements id).

- uv: `UV_CONFIG_FILE` alone if set; else the project's `uv.toml` or `pyproject.toml`
  `[tool.uv]` (the nearest one from the working folder up), then the user's
  (`$XDG_CONFIG_HOME/uv/uv.toml`), then the system's (`$XDG_CONFIG_DIRS/uv/uv.toml`,
  `/etc/uv/uv.toml`), the first holding a key winning, as uv does. `UV_NO_CONFIG` skips
  them all. Keys: `index-url`, `extra-index-url`, `[[index]]` (`default`, `explicit`,
  `name`), `find-links`, `no-index`, `allow-insecure-host`, `keyring-provider`, also
  under `[pip]`.
- pip: `PIP_CONFIG_FILE`, the site file (`<sys.prefix>/pip.conf`), the user's
  (`$XDG_CONFIG_HOME/pip/pip.conf`, `~/.pip/pip.conf`) and the global ones
  (`$XDG_CONFIG_DIRS/pip/pip.conf`, `/etc/pip.conf`), in pip's own order of precedence,
  `[install]` over `[global]`. `PIP_CONFIG_FILE=/dev/null` skips them all, as for pip.
  Keys: `index-url`, `extra-index-url`, `find-links`, `trusted-host`, `no-index`,
  `keyring-provider`.
"""

from __future__ import annotations

import configparser
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .errors import SettingsError

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

# Setting field -> (uv key, pip key)
KEYS = {
    "index_url": ("index-url", "index-url"),
    "extra_index_urls": ("extra-index-url", "extra-index-url"),
    "find_links": ("find-links", "find-links"),
    "no_index": ("no-index", "no-index"),
    "trusted_hosts": ("allow-insecure-host", "trusted-host"),
    "keyring_provider": ("keyring-provider", "keyring-provider"),
}

Found = Dict[str, Tuple[Any, str]]  # field -> (raw value, where it came from)


def _home(environ: Mapping[str, str]) -> str:
    return environ.get("HOME") or os.path.expanduser("~")


def _config_home(environ: Mapping[str, str]) -> str:
    return environ.get("XDG_CONFIG_HOME") or os.path.join(_home(environ), ".config")


def _config_dirs(environ: Mapping[str, str]) -> List[str]:
    return [d for d in (environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep) if d]


# -- uv -------------------------------------------------------------------------------


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError("uv's configuration file %s cannot be read: %s" % (path, exc),
                            hint="Fix it, or set UV_NO_CONFIG=1 to ignore uv's "
                                 "configuration files.") from None


def uv_config_files(environ: Mapping[str, str], cwd: str) -> List[Tuple[Path, dict]]:
    """(file, its uv table) in precedence order, most important first."""
    if environ.get("UV_NO_CONFIG"):
        return []
    if environ.get("UV_CONFIG_FILE"):
        path = Path(environ["UV_CONFIG_FILE"])
        return [(path, _read_toml(path))]
    out = []
    folder = Path(cwd).resolve()
    for candidate in [folder, *folder.parents]:
        if (candidate / "uv.toml").is_file():
            out.append((candidate / "uv.toml", _read_toml(candidate / "uv.toml")))
            break
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            table = (_read_toml(pyproject).get("tool") or {}).get("uv")
            if isinstance(table, dict):
                out.append((pyproject, table))
                break
    user = Path(_config_home(environ), "uv", "uv.toml")
    system = [Path(d, "uv", "uv.toml") for d in _config_dirs(environ)] + [Path("/etc/uv/uv.toml")]
    for path in [user] + system:
        if path.is_file():
            out.append((path, _read_toml(path)))
            if path != user:
                break  # one system file, the first found
    return out


def _uv_values(table: dict) -> Dict[str, Any]:
    """The settings one uv file gives ([pip] over the top level)."""
    merged = dict(table)
    if isinstance(table.get("pip"), dict):
        merged.update(table["pip"])
    out: Dict[str, Any] = {}
    for field, (uv_key, _) in KEYS.items():
        if merged.get(uv_key) not in (None, [], ""):
            out[field] = merged[uv_key]
    extra = list(out.get("extra_index_urls") or [])
    for entry in merged.get("index") or []:
        if not isinstance(entry, dict) or not entry.get("url") or entry.get("explicit"):
            continue  # explicit indexes serve only the packages a project pins to them
        named = "%s=%s" % (entry["name"], entry["url"]) if entry.get("name") else entry["url"]
        if entry.get("default"):
            out.setdefault("index_url", named)
        else:
            extra.append(named)
    if extra:
        out["extra_index_urls"] = extra
    return out


# -- pip ------------------------------------------------------------------------------


def pip_config_files(environ: Mapping[str, str], prefix: str = sys.prefix) -> List[Path]:
    """pip's configuration files that exist, most important first."""
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    files = []
    if env_file:
        files.append(Path(env_file))
    files.append(Path(prefix, "pip.conf"))
    if not (env_file and os.path.exists(env_file)):
        if sys.platform == "darwin":
            files.append(Path(_home(environ), "Library", "Application Support", "pip", "pip.conf"))
        files += [Path(_config_home(environ), "pip", "pip.conf"),
                  Path(_home(environ), ".pip", "pip.conf")]
    files += [Path("/etc/pip.conf")] + [Path(d, "pip", "pip.conf")
                                        for d in reversed(_config_dirs(environ))]
    return [f for f in files if f.is_file()]


def _pip_file(path: Path) -> Dict[Tuple[str, str], str]:
    """(section, key) -> value of one pip file (pip reads keys with '_' as '-')."""
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError) as exc:
        raise SettingsError("pip's configuration file %s cannot be read: %s" % (path, exc),
                            hint="Fix it, or set PIP_CONFIG_FILE=/dev/null to ignore pip's "
                                 "configuration files.") from None
    return {(section, key.replace("_", "-")): value for section in parser.sections()
            for key, value in parser.items(section)}


def _pip_values(files: List[Path]) -> Found:
    """The settings pip's files give, as pip composes them: files merged key by key (the
    most important file wins), then [install] over [global]."""
    merged: Dict[Tuple[str, str], Tuple[str, str]] = {}
    for path in files:
        for key, value in _pip_file(path).items():
            merged.setdefault(key, (value, str(path)))
    out: Found = {}
    for field, (_, pip_key) in KEYS.items():
        for section in ("install", "global"):
            value, where = merged.get((section, pip_key), ("", ""))
            if value.strip():
                if field == "no_index":
                    value = value.strip().lower() in ("1", "true", "yes", "on")
                elif field in ("extra_index_urls", "find_links", "trusted_hosts"):
                    value = value.split()
                else:
                    value = value.strip()
                out[field] = (value, where)
                break
    return out


def configured(environ: Mapping[str, str], cwd: Optional[str] = None,
               prefix: str = sys.prefix) -> Found:
    """Each index setting the configuration files give, with the file it came from: uv's
    files before pip's, each tool's most important file first."""
    found: Found = {}
    for path, table in uv_config_files(environ, cwd or os.getcwd()):
        for field, value in _uv_values(table).items():
            found.setdefault(field, (value, str(path)))
    for field, value in _pip_values(pip_config_files(environ, prefix)).items():
        found.setdefault(field, value)
    return found
