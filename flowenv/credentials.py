"""Credentials for private package indexes, from where pip, uv and Poetry users keep them:
the URL itself, per-index environment variables (uv's `UV_INDEX_<NAME>_USERNAME` /
`_PASSWORD`, Poetry's `POETRY_HTTP_BASIC_<NAME>_USERNAME` / `_PASSWORD`), the netrc file
and keyring (`keyring get SERVICE USER`, as uv's `--keyring-provider subprocess` runs it).

They are looked up when the resolving machine talks to an index, handed to uv and to
flowenv's downloader, and never stored: records keep redacted URLs only, and a machine
that creates an environment reads the store, not the index.
"""

from __future__ import annotations

import base64
import netrc
import re
import shutil
import subprocess
from typing import Dict, Mapping, Optional, Sequence, Tuple
from urllib.parse import unquote, urlsplit

from .errors import SettingsError
from .redact import redact_url

def env_name(index_name: str) -> str:
    """uv's spelling of an index name in a variable: upper case, other characters '_'."""
    return re.sub(r"[^A-Z0-9]", "_", index_name.upper())


def _userinfo(url: str) -> Tuple[Optional[str], Optional[str]]:
    parts = urlsplit(url.split("+", 1)[1] if url.startswith("git+") else url)
    if parts.username is None:
        return None, None
    return unquote(parts.username), (unquote(parts.password) if parts.password is not None
                                     else None)


def _same_place(url: str, index: str) -> bool:
    """Whether url lives on index's server (pip's rule: same host and port)."""
    a, b = urlsplit(url), urlsplit(index)
    return (a.hostname, a.port) == (b.hostname, b.port) and a.hostname is not None


class Credentials:
    """Where this machine keeps index credentials; built at the edge from Settings."""

    def __init__(self, environ: Mapping[str, str] = None, netrc_file: Optional[str] = None,
                 keyring_provider: Optional[str] = None):
        self.environ = dict(environ or {})
        self.netrc_file = netrc_file
        self.keyring_provider = keyring_provider
        self._netrc = None

    # -- sources ----------------------------------------------------------------------

    def _named(self, name: str) -> Tuple[Optional[str], Optional[str]]:
        key = env_name(name)
        for prefix in ("UV_INDEX_%s_" % key, "POETRY_HTTP_BASIC_%s_" % key):
            user, password = (self.environ.get(prefix + "USERNAME"),
                              self.environ.get(prefix + "PASSWORD"))
            if user or password:
                return user, password
        return None, None

    def _from_netrc(self, host: str) -> Tuple[Optional[str], Optional[str]]:
        if not self.netrc_file:
            return None, None
        if self._netrc is None:
            try:
                self._netrc = netrc.netrc(self.netrc_file)
            except FileNotFoundError:
                self._netrc = False
            except (netrc.NetrcParseError, OSError) as exc:
                raise SettingsError("the netrc file %s cannot be read: %s"
                                    % (self.netrc_file, exc), setting="NETRC",
                                    hint="Fix the file, or point NETRC elsewhere.") from None
        if not self._netrc:
            return None, None
        found = self._netrc.authenticators(host)
        return (found[0], found[2]) if found else (None, None)

    def _from_keyring(self, service: str, user: Optional[str]) -> Optional[str]:
        if self.keyring_provider != "subprocess" or not user:
            return None
        binary = shutil.which("keyring", path=self.environ.get("PATH"))
        if binary is None:
            raise SettingsError("keyring is the configured credential provider, but no "
                                "`keyring` command is on PATH", setting="keyring-provider",
                                hint="pip install keyring (with your backend), or unset it.")
        try:
            proc = subprocess.run([binary, "get", service, user], capture_output=True,
                                  text=True, env=self.environ, timeout=60,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            return None
        password = proc.stdout.rstrip("\r\n")
        return password if proc.returncode == 0 and password else None

    # -- lookups ----------------------------------------------------------------------

    def for_url(self, url: str, indexes: Sequence[str] = (),
                names: Mapping[str, str] = None) -> Tuple[Optional[str], Optional[str]]:
        """(user, password) for a URL on one of the indexes (given with their own
        credentials, if any, and their names): the URL's own, then the index's URL, its
        variables, the netrc file, keyring."""
        names = names or {}
        user, password = _userinfo(url)
        if password is not None:
            return user, password
        hosting = [i for i in indexes if _same_place(url, i)]
        hosting.sort(key=lambda i: not url.startswith(redact_url(i).rstrip("/")))
        for index in hosting:
            index_user, index_password = _userinfo(index)
            if index_password is not None:
                return index_user, index_password
            user = user or index_user
        for index in hosting:
            if index in names or redact_url(index) in names:
                named_user, named_password = self._named(names.get(index)
                                                         or names[redact_url(index)])
                if named_password is not None:
                    return named_user or user, named_password
                user = user or named_user
        host = urlsplit(url).hostname
        if host:
            netrc_user, netrc_password = self._from_netrc(host)
            if netrc_password is not None and (user is None or user == netrc_user):
                return netrc_user, netrc_password
        for service in [redact_url(i) for i in hosting] + [redact_url(url), host]:
            password = self._from_keyring(service, user) if service else None
            if password is not None:
                return user, password
        return user, None

    def authorization(self, url: str, indexes: Sequence[str] = (),
                      names: Mapping[str, str] = None) -> Optional[str]:
        """An HTTP Authorization header for url, or None."""
        user, password = self.for_url(url, indexes, names)
        if user is None and password is None:
            return None
        token = "%s:%s" % (user or "", password or "")
        return "Basic " + base64.b64encode(token.encode()).decode()

    def uv_environment(self, names: Mapping[str, str]) -> Dict[str, str]:
        """Variables that give uv the credentials of named indexes (url -> name) it would
        not find itself: Poetry's spelling, as uv's."""
        env = {}
        for name in set(names.values()):
            key = env_name(name)
            if ("UV_INDEX_%s_USERNAME" % key) in self.environ or (
                    "UV_INDEX_%s_PASSWORD" % key) in self.environ:
                continue
            user, password = self._named(name)
            if user:
                env["UV_INDEX_%s_USERNAME" % key] = user
            if password:
                env["UV_INDEX_%s_PASSWORD" % key] = password
        return env

    def uv_arguments(self) -> list:
        return ["--keyring-provider", "subprocess"] if self.keyring_provider == "subprocess" else []


NO_CREDENTIALS = Credentials()


class IndexAccess:
    """How one request reaches its indexes: their URLs (with any credentials they carry),
    their names, the hosts trusted without TLS checks, and this machine's credentials."""

    def __init__(self, indexes: Sequence[str] = (), names: Mapping[str, str] = None,
                 trusted_hosts: Sequence[str] = (), credentials: Credentials = None):
        self.indexes = list(indexes)
        self.names = dict(names or {})
        self.trusted_hosts = list(trusted_hosts)
        self.credentials = credentials or NO_CREDENTIALS

    @classmethod
    def for_spec(cls, spec, credentials: Credentials = None) -> "IndexAccess":
        return cls(spec.index_urls, spec.named_indexes, spec.trusted_hosts, credentials)

    def authorization(self, url: str) -> Optional[str]:
        return self.credentials.authorization(url, self.indexes, self.names)

    def is_trusted(self, url: str) -> bool:
        parts = urlsplit(url)
        host = parts.hostname or ""
        return host in self.trusted_hosts or ("%s:%s" % (host, parts.port)) in self.trusted_hosts

    @property
    def secrets(self):
        """URLs whose credentials must be redacted from any output."""
        return list(self.indexes)

    def uv_arguments(self) -> list:
        args = self.credentials.uv_arguments()
        for host in self.trusted_hosts:
            args += ["--allow-insecure-host", host]
        return args

    def uv_environment(self) -> Dict[str, str]:
        return self.credentials.uv_environment(self.names)
