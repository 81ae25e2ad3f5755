"""The Fetcher a machine gives lock files: its package index (with the settings' index
options) for hashed requirements files, its interpreters to build wheels from source
distributions for its own platform, and its cache for files a lock names by md5 only."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Tuple

from ..cache import LocalCache
from ..credentials import Credentials, IndexAccess
from ..errors import FlowenvError
from ..fetch import download_by_md5
from ..interpreters import InterpreterFinder
from ..lock import LockedFile
from ..platforms import Target, host_platform
from ..spec import Spec
from ..uv_runner import UvRunner
from .base import Fetcher


class IndexFetcher(Fetcher):
    def __init__(self, uv: UvRunner, cache: LocalCache, finder: InterpreterFinder,
                 index: Spec, credentials: Credentials, environ: Mapping[str, str]):
        """index: a Spec holding only the settings' index options; credentials: where
        this machine keeps index credentials; environ: the edge's (git runs with it)."""
        self.uv = uv
        self.cache = cache
        self.finder = finder
        self.index = index
        self.credentials = credentials
        self.environ = environ

    def _spec(self, requirements: Sequence[str], options: dict, target: Target,
              origin: str) -> Spec:
        spec = Spec(pypi=tuple(requirements), python=target.python_minor, origin=origin,
                    **options)
        return spec.with_defaults(index_url=self.index.index_url,
                                  extra_index_urls=self.index.extra_index_urls,
                                  find_links=self.index.find_links,
                                  index_names=self.index.index_names,
                                  no_index=self.index.no_index,
                                  trusted_hosts=self.index.trusted_hosts)

    def _builder(self, spec: Spec, target: Target):
        if target.platform != host_platform():
            return None
        from ..resolve.build import SourceBuilder

        interpreter = self.finder.find(target.python_minor, prefer=target.python_version)
        return SourceBuilder(spec, target, interpreter.path, self.cache, self.uv,
                             IndexAccess.for_spec(spec, self.credentials), self.environ)

    def pinned_files(self, requirements, index, target, allowed: Dict[str, set], origin
                     ) -> List[LockedFile]:
        from ..resolve.pypi import resolve_pypi

        spec = self._spec(requirements, index, target, origin)
        try:
            return resolve_pypi(spec, target, self.uv, builder=self._builder(spec, target),
                                access=IndexAccess.for_spec(spec, self.credentials),
                                allowed=allowed)
        except FlowenvError as exc:
            raise exc.within(file=origin) from None

    def build_wheel(self, package: dict, name: str, target: Target, origin: str):
        builder = self._builder(self._spec((), {}, target, origin), target)
        return builder(package, name, Path(origin).parent) if builder is not None else None

    def conda_sha256(self, url: str, md5: str, what: str) -> Tuple[str, int]:
        from ..conda.match_specs import split_filename

        filename = url.rsplit("/", 1)[-1]
        name, version, _ = split_filename(filename)

        def dest_for(sha256: str, size: int):
            return self.cache.package_path(LockedFile(name, version, "conda", filename, url,
                                                      sha256, size))

        return download_by_md5(url, md5, what, self.cache.ensure().root, dest_for,
                               IndexAccess.for_spec(self.index, self.credentials))
