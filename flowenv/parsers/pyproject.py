"""pyproject.toml -> Spec, as uv and Poetry read a project's dependencies.

- `[project]` dependencies and requires-python. Dynamic dependencies are read where the
  project says they are listed (setuptools' `[tool.setuptools.dynamic]` and hatch's
  requirements_txt hook files); computed ones are a clear error (flowenv does not run a
  build backend to learn what to resolve).
- uv: `[[tool.uv.index]]` (the `default` one is the index, the others extra indexes; an
  `explicit` one serves only the packages pinned to it) and `[tool.uv.sources]` (git,
  path, url and index entries).
- Poetry: `[tool.poetry.dependencies]` (a Poetry-only project: `^`, `~` and `*`
  constraints, extras, markers, git/path/url entries, `source =`) and
  `[[tool.poetry.source]]` (primary sources first, then supplemental ones; explicit
  ones serve only the packages that name them). With a `[project]` table (Poetry 2),
  Poetry's entries add sources to its dependencies.
Relative paths are relative to the pyproject.toml's folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..errors import SpecError
from ..spec import Spec
from .requirements_txt import PipOptions, parse_requirements_file
from .source import read_toml, warn_user


def parse_pyproject(path, python: Optional[str] = None, environ: Mapping[str, str] = None,
                    warn: Callable[[str], None] = None) -> Spec:
    path = Path(path)
    try:
        return _parse(path, python, environ or {}, warn or warn_user)
    except SpecError as exc:
        raise exc.within(file=str(path)) from None


def _table(data: dict, *keys: str) -> dict:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SpecError("[%s] must be a table" % ".".join(keys))
    return data


def _parse(path: Path, python: Optional[str], environ, warn) -> Spec:
    data = read_toml(path, "pyproject.toml")
    project = _table(data, "project")
    poetry = _table(data, "tool", "poetry")
    out = PipOptions(environ, path.parent)
    requires_python = project.get("requires-python")
    if requires_python is not None and not isinstance(requires_python, str):
        raise SpecError("[project] requires-python must be a string such as \">=3.10\"")

    _uv_indexes(data, out)
    explicit = _poetry_sources(poetry, out)
    poetry_deps = _table(poetry, "dependencies")
    if "dependencies" in project or "dependencies" in (project.get("dynamic") or []):
        requirements = _project_dependencies(path, project, data, environ)
        entries = {canonicalize_name(k): v for k, v in poetry_deps.items() if k != "python"}
        requirements = [_with_poetry_source(r, entries, out, explicit) for r in requirements]
    elif poetry_deps:
        requirements, poetry_python = _poetry_dependencies(poetry_deps, out, explicit)
        requires_python = requires_python or poetry_python
        groups = sorted(_table(poetry, "group"))
        if groups:
            warn("%s: Poetry dependency groups (%s) are not part of the environment; list "
                 "what a step needs in [tool.poetry.dependencies]" % (path, ", ".join(groups)))
    elif project:
        requirements = []
    else:
        raise SpecError("there is no [project] table with dependencies, nor "
                        "[tool.poetry.dependencies]")
    requirements = _apply_uv_sources(requirements, _table(data, "tool", "uv", "sources"), out)
    for requirement in requirements:
        out.add(requirement, path)
    return Spec(python=python or requires_python, origin=str(path), **out.spec_fields())


# -- [project] --------------------------------------------------------------------------


def _requirement_list(value, what: str) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
        raise SpecError("%s must be a list of requirement strings, such as [\"requests>=2\"]"
                        % what)
    return list(value)


def _project_dependencies(path: Path, project: dict, data: dict, environ) -> List[str]:
    if "dependencies" not in (project.get("dynamic") or []):
        return _requirement_list(project.get("dependencies") or [], "[project] dependencies")
    files = _dynamic_files(data)
    if not files:
        raise SpecError(
            "[project] dependencies are dynamic: the build backend computes them, and "
            "flowenv does not run build backends to learn what to resolve",
            hint="List them in [project] dependencies (or in a requirements file named by "
                 "[tool.setuptools.dynamic]), or resolve the project itself: -r a "
                 "requirements file holding '.'.")
    out = []
    for name in files:
        spec = parse_requirements_file(path.parent / name, environ=environ)
        out += list(spec.rebased(str(path.parent.resolve())).pypi)
    return out


def _dynamic_files(data: dict) -> List[str]:
    """Requirement files a static dynamic-dependencies declaration names."""
    setuptools = _table(data, "tool", "setuptools", "dynamic").get("dependencies")
    if isinstance(setuptools, dict) and setuptools.get("file"):
        files = setuptools["file"]
        return [files] if isinstance(files, str) else list(files)
    hatch = _table(data, "tool", "hatch", "metadata", "hooks", "requirements_txt")
    if hatch.get("files"):
        return list(hatch["files"])
    return []


# -- uv ---------------------------------------------------------------------------------


def _named(name: str, url: str) -> str:
    return "%s=%s" % (name, url)


def _uv_indexes(data: dict, out: PipOptions) -> None:
    indexes = _table(data, "tool", "uv").get("index") or []
    if not isinstance(indexes, list):
        raise SpecError("[[tool.uv.index]] must be an array of tables")
    for index in indexes:
        if not isinstance(index, dict) or not isinstance(index.get("url"), str):
            raise SpecError("each [[tool.uv.index]] needs a url", entry="[[tool.uv.index]]")
        url, name = index["url"], index.get("name")
        if name:
            out.index_names.append(_named(name, url))
        if index.get("explicit"):
            continue
        if index.get("default"):
            out.index_url = url
        else:
            out.extra_index_urls.append(url)


def _uv_index_url(name: str, out: PipOptions) -> str:
    for entry in out.index_names:
        if entry.split("=", 1)[0] == name:
            return entry.split("=", 1)[1]
    raise SpecError("it names index %r, which no [[tool.uv.index]] defines" % name)


def _apply_uv_sources(requirements: List[str], sources: dict, out: PipOptions) -> List[str]:
    if not sources:
        return requirements
    sources = {canonicalize_name(k): v for k, v in sources.items()}
    result = []
    for text in requirements:
        req = _requirement(text)
        source = sources.get(canonicalize_name(req.name))
        if source is None:
            result.append(text)
            continue
        where = "[tool.uv.sources] %s" % req.name
        if isinstance(source, list):
            raise SpecError("several sources chosen by markers are not supported; give one "
                            "source", entry=where)
        if not isinstance(source, dict):
            raise SpecError("a source is a table such as { git = \"https://...\" }", entry=where)
        if "index" in source:
            try:
                out.index_pins.append(_named(req.name, _uv_index_url(source["index"], out)))
            except SpecError as exc:
                raise exc.within(entry=where) from None
            result.append(text)
        elif source.get("workspace"):
            raise SpecError("workspace members are not supported; point to the member's "
                            "folder with { path = \"...\" }", entry=where)
        else:
            result.append(_direct(req, source, where))
    return result


# -- Poetry -----------------------------------------------------------------------------


def _poetry_sources(poetry: dict, out: PipOptions) -> Dict[str, str]:
    """Record Poetry's sources; the explicit ones' name -> URL (they serve only the
    packages that name them)."""
    sources = poetry.get("source") or []
    if not isinstance(sources, list):
        raise SpecError("[[tool.poetry.source]] must be an array of tables")
    primary, supplemental, every = [], [], {}
    for source in sources:
        if not isinstance(source, dict) or not source.get("name") or not source.get("url"):
            raise SpecError("each [[tool.poetry.source]] needs a name and a url",
                            entry="[[tool.poetry.source]]")
        name, url = source["name"], source["url"]
        priority = source.get("priority") or ("primary" if not source.get("secondary")
                                              else "supplemental")
        if source.get("default"):
            priority = "default"
        every[name] = url
        out.index_names.append(_named(name, url))
        if priority in ("default", "primary"):
            primary.insert(0 if priority == "default" else len(primary), url)
        elif priority in ("supplemental", "secondary"):
            supplemental.append(url)
        elif priority != "explicit":
            raise SpecError("unknown priority %r (expected primary, supplemental or explicit)"
                            % priority, entry="[[tool.poetry.source]] %s" % name)
    # Primary sources replace PyPI and come first, supplemental ones last; uv searches
    # its extra indexes in order, then the default one.
    ordered = primary + supplemental
    if primary:
        out.index_url, extras = ordered[-1], ordered[:-1]
    else:
        extras = supplemental
    out.extra_index_urls += extras
    return every


def _poetry_dependencies(deps: dict, out: PipOptions, sources: Dict[str, str]
                         ) -> Tuple[List[str], Optional[str]]:
    requirements, python = [], None
    for name, value in deps.items():
        where = "[tool.poetry.dependencies] %s" % name
        try:
            if name == "python":
                python = poetry_constraint(str(value))
                continue
            for entry in (value if isinstance(value, list) else [value]):
                requirement = _poetry_requirement(name, entry, out, sources, where)
                if requirement is not None:
                    requirements.append(requirement)
        except SpecError as exc:
            raise exc.within(entry=where) from None
    return requirements, python


def _poetry_requirement(name: str, entry, out: PipOptions, sources, where) -> Optional[str]:
    if isinstance(entry, str):
        entry = {"version": entry}
    if not isinstance(entry, dict):
        raise SpecError("expected a version string or a table")
    if entry.get("optional"):
        return None  # only through extras, which an environment does not select
    markers = [entry["markers"]] if entry.get("markers") else []
    if entry.get("python"):
        markers.append(_python_marker(entry["python"]))
    extras = "[%s]" % ",".join(entry["extras"]) if entry.get("extras") else ""
    base = name + extras
    if any(k in entry for k in ("git", "path", "url")):
        text = _direct(Requirement(base), entry, where)
    else:
        text = base + poetry_constraint(str(entry.get("version", "*")))
    if entry.get("source"):
        if entry["source"] not in sources:
            raise SpecError("source %r is not one of the [[tool.poetry.source]]"
                            % entry["source"])
        out.index_pins.append(_named(name, sources[entry["source"]]))
    if markers:
        text += " ; " + " and ".join("(%s)" % m for m in markers)
    return text


def _with_poetry_source(text: str, entries: dict, out: PipOptions, sources) -> str:
    """A [project] dependency with what Poetry's entry for it adds (Poetry 2)."""
    req = _requirement(text)
    entry = entries.get(canonicalize_name(req.name))
    if not isinstance(entry, dict):
        return text
    where = "[tool.poetry.dependencies] %s" % req.name
    if entry.get("source"):
        if entry["source"] not in sources:
            raise SpecError("source %r is not one of the [[tool.poetry.source]]"
                            % entry["source"], entry=where)
        out.index_pins.append(_named(req.name, sources[entry["source"]]))
    if any(k in entry for k in ("git", "path", "url")):
        return _direct(req, entry, where)
    return text


def poetry_constraint(text: str) -> str:
    """Poetry's version constraint as a PEP 440 specifier ('' for any version)."""
    text = text.strip()
    if "||" in text or " | " in text:
        raise SpecError("the constraint %r uses '||', which has no PEP 440 equivalent: "
                        "write one range" % text)
    parts = [p.strip() for p in re.split(r",\s*|\s+(?=[<>=!~^])", text) if p.strip()]
    out = []
    for part in parts:
        if part in ("*", ""):
            continue
        if part.startswith("^") or (part.startswith("~") and not part.startswith("~=")):
            out += _caret_or_tilde(part)
        elif part[0].isdigit():
            out.append("==" + part)  # 1.2.3 and 1.2.*
        else:
            out.append(part.replace(" ", ""))
    return ",".join(out)


def _caret_or_tilde(part: str) -> List[str]:
    version = part[1:].strip()
    numbers = version.split(".")
    if not all(n.isdigit() for n in numbers):
        raise SpecError("cannot read the constraint %r" % part)
    values = [int(n) for n in numbers]
    if part[0] == "^":
        position = next((i for i, v in enumerate(values) if v != 0), len(values) - 1)
    else:
        position = min(1, len(values) - 1) if len(values) > 1 else 0
    upper = values[:position] + [values[position] + 1]
    return [">=" + version, "<" + ".".join(str(v) for v in upper)]


def _python_marker(constraint: str) -> str:
    specifiers = [s for s in poetry_constraint(str(constraint)).split(",") if s]
    return " and ".join('python_version %s "%s"' % re.match(r"^([<>=!~]+)(.*)$", s).groups()
                        for s in specifiers) or 'python_version >= "0"'


# -- shared -----------------------------------------------------------------------------


def _requirement(text: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise SpecError("%r is not a valid requirement (%s)" % (text, exc)) from None


def _direct(req: Requirement, source: dict, where: str) -> str:
    """A requirement with its git / path / url source as a direct reference."""
    head = req.name + ("[%s]" % ",".join(sorted(req.extras)) if req.extras else "")
    if source.get("git"):
        refs = [source[k] for k in ("tag", "branch", "rev") if source.get(k)]
        if len(refs) > 1:
            raise SpecError("give one of tag, branch and rev", entry=where)
        location = "git+" + source["git"] + ("@" + refs[0] if refs else "")
    elif source.get("url"):
        location = source["url"]
    elif source.get("path"):
        location = source["path"]
        if not location.startswith(("/", ".")):
            location = "./" + location
    else:
        raise SpecError("a source is git, path, url or index", entry=where)
    if source.get("subdirectory"):
        location += "#subdirectory=" + source["subdirectory"]
    text = "%s @ %s" % (head, location)
    if req.marker:
        text += " ; " + str(req.marker)
    return text
