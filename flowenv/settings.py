"""Settings: every knob flowenv has, read once at the edge into one frozen value.

The edges (the Metaflow glue, the CLI, the remote bootstrap) call `Settings.load` with the
process environment and, under Metaflow, the profile's values; the core only ever sees
the result. This is the one module of the core that reads environment variables.

Each setting is looked up, first found wins, as:
1. an explicit override (a command-line option of the edge);
2. the environment variable `FLOWENV_X`, then `METAFLOW_FLOWENV_X` (Metaflow's spelling);
3. the Metaflow profile's `METAFLOW_FLOWENV_X` (`~/.metaflowconfig/config*.json`);
4. the setting's other variables: uv's, then pip's for the indexes (`UV_DEFAULT_INDEX`,
   `UV_INDEX_URL`, `PIP_INDEX_URL`, ...), Metaflow's own settings for the store endpoints,
   the reference extension's where they mean the same (`METAFLOW_CONDA_REMOTE_COMMANDS`,
   ...); those named `METAFLOW_X` are also read from the profile;
5. for the index settings, uv's configuration files, then pip's (tool_config.py: the
   project's uv.toml or [tool.uv], the user's and the system's uv.toml; PIP_CONFIG_FILE,
   the site, user and global pip.conf);
6. its default.
A requirements file's or decorator's own index (`--index-url`, `extra_indices`) comes
before all of these: settings fill in only what the request leaves open.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

from .errors import SettingsError
from .redact import redact_url

DEFAULT_CHANNEL_ALIAS = "https://conda.anaconda.org/"
PLATFORMS = ("linux-64", "linux-aarch64", "osx-64", "osx-arm64")
# Metaflow's compute decorators that run a step on another machine.
REMOTE_DECORATORS = ("batch", "kubernetes", "nvidia", "snowpark", "slurm", "nvct", "skypilot_step")


# -- value parsers: text (or a JSON value from a profile) -> typed value -----------------


def _text(value) -> str:
    return str(value).strip()


def _optional_text(value) -> Optional[str]:
    return _text(value) or None


def _words(separators: str) -> Callable[[Any], Tuple[str, ...]]:
    def parse(value) -> Tuple[str, ...]:
        if isinstance(value, (list, tuple)):
            items = [str(v) for v in value]
        else:
            items = [str(value)]
        out = []
        for item in items:
            for sep in separators[1:]:
                item = item.replace(sep, separators[0])
            out += [w.strip() for w in item.split(separators[0]) if w.strip()]
        return tuple(dict.fromkeys(out))

    return parse


_NAMED_INDEX = re.compile(r"^([A-Za-z0-9_.-]+)=(?=[A-Za-z][A-Za-z0-9+.-]*://)")


def _index_urls(value) -> Tuple[str, ...]:
    """Space-separated index URLs; uv's UV_INDEX entries may be named ('name=https://...'):
    the names are kept apart (Settings.index_names)."""
    return tuple(_NAMED_INDEX.sub("", u) for u in _words(" ")(value))


def _index_url(value) -> Optional[str]:
    urls = _index_urls(value)
    return urls[0] if urls else None


def _index_names(raw_values) -> Tuple[str, ...]:
    """'name=URL' of the named indexes among raw index settings."""
    return tuple(u for value in raw_values for u in _words(" ")(value) if _NAMED_INDEX.match(u))


def _positive_seconds(value) -> float:
    try:
        seconds = float(str(value).strip())
    except ValueError:
        raise ValueError("expected a number of seconds, such as 600") from None
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError("expected a positive number of seconds, such as 600")
    return seconds


def _positive_int(value) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError("expected a whole number, such as 8") from None
    if number < 1:
        raise ValueError("expected a whole number of at least 1")
    return number


def _directory(value) -> Path:
    text = _text(value)
    if not text:
        raise ValueError("expected a folder path")
    if "\0" in text:
        raise ValueError("a path cannot contain a NUL character")
    return Path(text).expanduser()


def _platform(value) -> str:
    text = _text(value)
    if text not in PLATFORMS:
        raise ValueError("expected one of %s" % ", ".join(PLATFORMS))
    return text


def _url(value) -> str:
    text = _text(value)
    if "://" not in text:
        raise ValueError("expected a URL, such as https://conda.anaconda.org/")
    return text


def _names(value) -> Tuple[str, ...]:
    """Names, comma- or space-separated, or a JSON list (as Metaflow's own settings are)."""
    text = value if isinstance(value, (list, tuple)) else _text(value)
    if isinstance(text, str) and text.startswith("["):
        try:
            text = json.loads(text)
        except ValueError:
            raise ValueError("not a JSON list of names") from None
    names = _words(" ,")(text)
    if not names:
        raise ValueError("expected names, such as batch,kubernetes")
    return names


def _virtual_package_entries(value):
    """Entries 'name=version[=build]' of the flat form, or of the reference extension's JSON
    mappings: {"__cuda": "12.2"}, or per platform {"linux-64": {"__glibc": "2.27"}}, which
    flowenv applies to every platform (a virtual package only concerns its own)."""
    text = _text(value) if not isinstance(value, dict) else value
    if isinstance(text, str) and not text.startswith("{"):
        return _words(",")(text)
    try:
        mapping = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        raise ValueError("not a JSON mapping of virtual packages") from None
    if mapping and all(isinstance(v, dict) for v in mapping.values()):
        merged = {}
        for platform, entries in mapping.items():
            for name, version in entries.items():
                if merged.get(name, version) != version:
                    raise ValueError("platforms give %s two versions (%s, %s): flowenv applies "
                                     "one to every platform" % (name, merged[name], version))
                merged[name] = version
        mapping = merged
    if not all(isinstance(k, str) and isinstance(v, (str, int, float)) for k, v in mapping.items()):
        raise ValueError("expected {\"__name\": \"version\"}")
    return ["%s=%s" % (k, v) for k, v in mapping.items()]


def _virtual_packages(value) -> Tuple[str, ...]:
    """'__glibc=2.17,__cuda=12.2' -> ('__cuda=12.2=0', '__glibc=2.17=0'); '__cuda=' removes."""
    out = {}
    for entry in _virtual_package_entries(value):
        name, _, rest = entry.replace("==", "=", 1).partition("=")
        version, _, build = rest.partition("=")
        if not name.startswith("__") or len(name) < 3:
            raise ValueError("%r is not a virtual package: write __name=version[=build], "
                             "such as __glibc=2.17 or __cuda=12.2" % entry)
        out[name] = "%s=%s=%s" % (name, version, build or "0") if version else name + "="
    return tuple(out[n] for n in sorted(out))


def _tristate(value) -> Optional[bool]:
    text = _text(value).lower()
    if text in ("", "auto"):
        return None
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected auto, yes or no")


def _keyring_provider(value) -> Optional[str]:
    """uv's values; pip's 'import' means the same as 'subprocess' here, its 'auto' (the
    default) nothing."""
    text = _text(value).lower()
    if text in ("", "auto", "disabled"):
        return None if text != "disabled" else "disabled"
    if text in ("subprocess", "import"):
        return "subprocess"
    raise ValueError("expected subprocess or disabled")


def _flag(value) -> bool:
    return bool(_tristate(value))


def _yes_or_no(value) -> bool:
    answer = _tristate(value)
    if answer is None:
        raise ValueError("expected yes or no")
    return answer


# -- the settings ---------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    field: str
    name: str  # FLOWENV_X, or the foreign name for settings flowenv shares with others
    parse: Callable[[Any], Any]
    help: str
    fallbacks: Tuple[str, ...] = ()  # other variables read, in order, after flowenv's own
    # Also read from pip's and uv's configuration files (tool_config.KEYS), after them.
    tool_config: bool = False
    secret: bool = False
    resolution: bool = False  # changes what a resolution gives: part of the requirements id
    remote: bool = False  # a remote container needs it too: the launcher's value is passed on


DEFINITIONS = (
    Definition("store_url", "FLOWENV_STORE", _optional_text,
               "store URL (folder, s3://, gs://, azure://) instead of <datastore root>/flowenv"),
    Definition("cache_dir", "FLOWENV_CACHE_DIR", _directory,
               "this machine's cache (default $XDG_CACHE_HOME/flowenv or ~/.cache/flowenv)"),
    Definition("lock_timeout", "FLOWENV_LOCK_TIMEOUT", _positive_seconds,
               "seconds to wait for another process holding a lock (600)", remote=True,
               fallbacks=("METAFLOW_CONDA_LOCK_TIMEOUT",)),
    Definition("pythons", "FLOWENV_PYTHONS", _words(os.pathsep),
               "extra interpreter paths or globs, %r-separated" % os.pathsep),
    Definition("conda_channels", "FLOWENV_CONDA_CHANNELS", _words(", "),
               "default conda channels, comma-separated (conda-forge)", resolution=True),
    Definition("conda_channel_alias", "FLOWENV_CONDA_CHANNEL_ALIAS", _url,
               "where channel names point (%s)" % DEFAULT_CHANNEL_ALIAS, resolution=True),
    Definition("conda_virtual_packages", "FLOWENV_CONDA_VIRTUAL_PACKAGES", _virtual_packages,
               "virtual packages for conda solves, e.g. __glibc=2.17,__cuda=12.2 (__glibc also "
               "caps the manylinux level of wheels; else METAFLOW_CONDA_SYS_DEFAULT_PACKAGES)",
               fallbacks=("METAFLOW_CONDA_SYS_DEFAULT_PACKAGES",), resolution=True),
    Definition("gpu_virtual_packages", "FLOWENV_GPU_VIRTUAL_PACKAGES", _virtual_packages,
               "virtual packages added for steps that ask for a GPU (gpu= of @resources, "
               "@kubernetes, @batch), e.g. __cuda=12.2 (else "
               "METAFLOW_CONDA_SYS_DEFAULT_GPU_PACKAGES)",
               fallbacks=("METAFLOW_CONDA_SYS_DEFAULT_GPU_PACKAGES",), resolution=True),
    Definition("index_url", "FLOWENV_INDEX_URL", _index_url,
               "the PyPI index (else METAFLOW_CONDA_DEFAULT_PYPI_SOURCE, UV_DEFAULT_INDEX, "
               "UV_INDEX_URL, PIP_INDEX_URL)",
               fallbacks=("METAFLOW_CONDA_DEFAULT_PYPI_SOURCE", "UV_DEFAULT_INDEX",
                          "UV_INDEX_URL", "PIP_INDEX_URL"), resolution=True, tool_config=True),
    Definition("extra_index_urls", "FLOWENV_EXTRA_INDEX_URLS", _index_urls,
               "extra PyPI indexes, space-separated (else UV_INDEX, UV_EXTRA_INDEX_URL, "
               "PIP_EXTRA_INDEX_URL)",
               fallbacks=("UV_INDEX", "UV_EXTRA_INDEX_URL", "PIP_EXTRA_INDEX_URL"),
               resolution=True, tool_config=True),
    Definition("find_links", "FLOWENV_FIND_LINKS", _words(" ,"),
               "extra wheel folders or pages (else UV_FIND_LINKS, PIP_FIND_LINKS)",
               fallbacks=("UV_FIND_LINKS", "PIP_FIND_LINKS"), resolution=True,
               tool_config=True),
    Definition("no_index", "FLOWENV_NO_INDEX", _flag,
               "no index at all, find-links only: yes or no (else UV_NO_INDEX, PIP_NO_INDEX)",
               fallbacks=("UV_NO_INDEX", "PIP_NO_INDEX"), resolution=True, tool_config=True),
    Definition("trusted_hosts", "FLOWENV_TRUSTED_HOSTS", _words(" ,"),
               "index hosts reached without TLS checks, space-separated (else "
               "UV_INSECURE_HOST, PIP_TRUSTED_HOST)",
               fallbacks=("UV_INSECURE_HOST", "PIP_TRUSTED_HOST"), tool_config=True),
    Definition("keyring_provider", "FLOWENV_KEYRING_PROVIDER", _keyring_provider,
               "index credentials from keyring: subprocess or disabled (else "
               "UV_KEYRING_PROVIDER, PIP_KEYRING_PROVIDER)",
               fallbacks=("UV_KEYRING_PROVIDER", "PIP_KEYRING_PROVIDER"), tool_config=True),
    Definition("netrc", "FLOWENV_NETRC", _optional_text,
               "the netrc file holding index credentials (else NETRC, else ~/.netrc)",
               fallbacks=("NETRC",)),
    Definition("remote_platform", "FLOWENV_REMOTE_PLATFORM", _platform,
               "platform of remote steps whose compute decorator names none (linux-64)"),
    Definition("remote_decorators", "FLOWENV_REMOTE_DECORATORS", _names,
               "decorators that run a step elsewhere: it is resolved for their platform and "
               "built in the container (%s; else METAFLOW_CONDA_REMOTE_COMMANDS)"
               % ",".join(REMOTE_DECORATORS),
               fallbacks=("METAFLOW_CONDA_REMOTE_COMMANDS",)),
    Definition("compile_bytecode", "FLOWENV_COMPILE_BYTECODE", _tristate,
               "compile bytecode when creating environments: yes, no or auto (yes when "
               "PYTHONDONTWRITEBYTECODE is set, since steps then cannot cache it)",
               remote=True),
    Definition("share_bytecode", "FLOWENV_SHARE_BYTECODE", _yes_or_no,
               "share compiled bytecode through the store (yes): the first machine to "
               "compile a package stores its .pyc files, later ones unpack them instead",
               remote=True),
    Definition("fetch_concurrency", "FLOWENV_FETCH_CONCURRENCY", _positive_int,
               "package-file reads from the store in flight at once when creating (8)",
               remote=True),
    Definition("uv_bin", "FLOWENV_UV_BIN", _optional_text,
               "the uv binary to run (default: the one installed with flowenv)"),
    Definition("s3_endpoint_url", "METAFLOW_S3_ENDPOINT_URL", _optional_text,
               "S3 endpoint (MinIO, R2, a test server), as for Metaflow"),
    Definition("azure_connection_string", "FLOWENV_AZURE_CONNECTION_STRING", _optional_text,
               "Azure storage connection string", secret=True),
    Definition("azure_endpoint", "METAFLOW_AZURE_STORAGE_BLOB_SERVICE_ENDPOINT", _optional_text,
               "Azure Blob endpoint, used with azure-identity credentials, as for Metaflow"),
    Definition("gcs_emulator_host", "FLOWENV_GCS_EMULATOR_HOST", _optional_text,
               "a GCS emulator (tests): the client is then anonymous (else STORAGE_EMULATOR_HOST)",
               fallbacks=("STORAGE_EMULATOR_HOST",), remote=True),
    Definition("gcs_project", "FLOWENV_GCS_PROJECT", _optional_text,
               "Google Cloud project of the GCS client (else GOOGLE_CLOUD_PROJECT)",
               fallbacks=("GOOGLE_CLOUD_PROJECT",), remote=True),
    Definition("user", "METAFLOW_USER", _optional_text,
               "who is acting, recorded in alias history (else USER, USERNAME, LOGNAME)",
               fallbacks=("USER", "USERNAME", "LOGNAME")),
    Definition("debug", "FLOWENV_DEBUG", _flag,
               "debug lines on stderr: every uv and rattler call, store operation and lock "
               "wait (also METAFLOW_DEBUG_FLOWENV, or --verbose)",
               fallbacks=("METAFLOW_DEBUG_FLOWENV",), remote=True),
)
BY_FIELD = {d.field: d for d in DEFINITIONS}


def _default_cache_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "flowenv"


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown@%s" % socket.gethostname()


@dataclass(frozen=True)
class Settings:
    """Every flowenv setting, typed and checked. Build with `Settings.load`; the plain
    constructor gives the defaults (for tests and library use without configuration)."""

    store_url: Optional[str] = None
    cache_dir: Path = field(default_factory=lambda: _default_cache_dir(os.environ))
    lock_timeout: float = 600.0
    pythons: Tuple[str, ...] = ()
    conda_channels: Tuple[str, ...] = ("conda-forge",)
    conda_channel_alias: str = DEFAULT_CHANNEL_ALIAS
    conda_virtual_packages: Tuple[str, ...] = ()
    gpu_virtual_packages: Tuple[str, ...] = ()
    index_url: Optional[str] = None
    extra_index_urls: Tuple[str, ...] = ()
    find_links: Tuple[str, ...] = ()
    no_index: bool = False
    trusted_hosts: Tuple[str, ...] = ()
    keyring_provider: Optional[str] = None
    netrc: Optional[str] = None
    remote_platform: str = "linux-64"
    remote_decorators: Tuple[str, ...] = REMOTE_DECORATORS
    compile_bytecode: Optional[bool] = None
    share_bytecode: bool = True
    fetch_concurrency: int = 8
    uv_bin: Optional[str] = None
    s3_endpoint_url: Optional[str] = None
    azure_connection_string: Optional[str] = field(default=None, repr=False)
    azure_endpoint: Optional[str] = None
    gcs_emulator_host: Optional[str] = None
    gcs_project: Optional[str] = None
    user: Optional[str] = None
    debug: bool = False
    # The process environment the edge saw: @{VAR} and ${VAR} expansion, and the base of
    # the environment handed to uv. Not a setting: never part of an id.
    environ: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    # Setting field -> where its value came from ("default", "FLOWENV_X", "profile ...").
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    # Names given to the index settings' URLs ('name=URL', uv's spelling): per-index
    # credentials. Part of the index settings, not a setting of its own.
    index_names: Tuple[str, ...] = ()

    @classmethod
    def load(cls, environ: Mapping[str, str] = None, profile: Mapping[str, Any] = None,
             overrides: Mapping[str, Any] = None,
             profile_name: Union[str, Callable[[str], str]] = "Metaflow profile",
             cwd: str = None) -> "Settings":
        """Settings from the environment, a Metaflow profile, pip's and uv's configuration
        files (the project's found from cwd) and explicit overrides. profile_name says
        where the profile's values come from (or, as a callable, where the value of one
        key comes from). A value that cannot be used is a SettingsError naming the
        variable and its source."""
        from .tool_config import configured

        environ = dict(os.environ if environ is None else environ)
        profile = dict(profile or {})
        values: Dict[str, Any] = {}
        origins: Dict[str, str] = {}
        files: Dict[str, Any] = {}
        raw_indexes = []

        def tool_files():
            if "found" not in files:
                files["found"] = configured(environ, cwd)
            return files["found"]

        for definition in DEFINITIONS:
            found = _lookup(definition, environ, profile, overrides or {}, profile_name)
            if found is None and definition.tool_config:
                found = tool_files().get(definition.field)
            if found is None:
                origins[definition.field] = "default"
                continue
            raw, source = found
            if definition.field in ("index_url", "extra_index_urls"):
                raw_indexes.append(raw)
            try:
                values[definition.field] = definition.parse(raw)
            except ValueError as exc:
                shown = "(hidden)" if definition.secret else repr(raw)
                raise SettingsError("%s is not usable: %s" % (shown, exc), setting=source,
                                    hint="Fix or unset it.") from None
            origins[definition.field] = source
        if "cache_dir" not in values:
            values["cache_dir"] = _default_cache_dir(environ)
        return cls(environ=MappingProxyType(environ), origins=MappingProxyType(origins),
                   index_names=_index_names(raw_indexes), **values)

    # -- derived values ---------------------------------------------------------------

    @property
    def acting_user(self) -> str:
        return self.user or _default_user()

    @property
    def netrc_file(self) -> str:
        """The netrc file index credentials may come from (FLOWENV_NETRC, NETRC, else
        ~/.netrc)."""
        if self.netrc:
            return os.path.expanduser(self.netrc)
        home = self.environ.get("HOME") or os.path.expanduser("~")
        return os.path.join(home, ".netrc")

    @property
    def should_compile_bytecode(self) -> bool:
        if self.compile_bytecode is not None:
            return self.compile_bytecode
        return bool(self.environ.get("PYTHONDONTWRITEBYTECODE"))

    def replace(self, **changes) -> "Settings":
        import dataclasses

        return dataclasses.replace(self, **changes)

    def describe(self):
        """(name, shown value, source) of every setting, secrets and the credentials of
        URLs hidden."""
        rows = []
        for definition in DEFINITIONS:
            value = getattr(self, definition.field)
            if definition.secret and value:
                shown = "(set, hidden)"
            elif isinstance(value, tuple):
                shown = " ".join(redact_url(v) for v in value) or "(none)"
            elif value is None:
                shown = "auto" if definition.parse is _tristate else "(unset)"
            else:
                shown = redact_url(_render(value))
            rows.append((definition.name, shown, self.origins.get(definition.field, "default")))
        return rows

    def exported(self) -> Dict[str, str]:
        """The settings a remote container needs, as variables: those set here (not
        defaults) and not secret, so that the container's flowenv works as this one."""
        return {d.name: _render(getattr(self, d.field)) for d in DEFINITIONS
                if d.remote and not d.secret
                and self.origins.get(d.field, "default") != "default"}


def _lookup(definition: Definition, environ, profile, overrides, profile_name):
    if overrides.get(definition.field) is not None:
        return overrides[definition.field], "command line"
    names = [definition.name]
    if definition.name.startswith("FLOWENV_"):
        names.append("METAFLOW_" + definition.name)
    for name in names:
        if environ.get(name, "") != "":
            return environ[name], name
    found = _in_profile(names, profile, profile_name)
    if found is not None:
        return found
    for name in definition.fallbacks:
        if environ.get(name, "") != "":
            return environ[name], name
    return _in_profile(definition.fallbacks, profile, profile_name)


def _in_profile(names, profile, profile_name):
    """A profile holds Metaflow's names only (METAFLOW_X)."""
    for name in names:
        if name.startswith("METAFLOW_") and profile.get(name) not in (None, ""):
            value = profile[name]
            if isinstance(value, dict):
                value = json.dumps(value)
            where = profile_name(name) if callable(profile_name) else profile_name
            return value, "%s in the %s" % (name, where)
    return None


def _render(value) -> str:
    """A typed value as the text that parses back to it."""
    if value is None:
        return "auto"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "%g" % value
    if isinstance(value, tuple):
        return " ".join(value)
    return str(value)
