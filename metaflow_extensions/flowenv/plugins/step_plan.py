"""What environment each step asks for, from its decorators and the flow's: the seed's
merge, override and disable rules in one place."""

import os
from dataclasses import dataclass
from typing import Mapping, Optional, Tuple

from flowenv import Spec, expand_vars


@dataclass(frozen=True)
class LockRef:
    """A lock file named by a decorator (lock=...), with the extras and groups it selects."""

    path: str  # absolute: relative paths are the flow file's folder's
    extras: Tuple[str, ...] = ()
    groups: Tuple[str, ...] = ()


@dataclass(frozen=True)
class StepPlan:
    step: str
    disabled: bool = False
    name: Optional[str] = None  # alias, @{VAR} expanded unless fetched at execution
    pathspec: Optional[str] = None
    lock: Optional[LockRef] = None
    fetch_at_exec: bool = False
    spec: Optional[Spec] = None  # packages alone, or added on top of name/pathspec/lock
    source: str = ""
    decorator: Optional[str] = None  # the decorator that names the environment

    @property
    def reference(self):
        return self.name or self.pathspec or (self.lock.path if self.lock else None)


def _deco(decos, name):
    found = decos.get(name)
    return found[0] if isinstance(found, list) and found else found


def _spec_from(conda, pypi, where, root=None) -> Spec:
    spec = Spec(origin=where, root=root)
    if conda is not None:
        spec = _combine(spec, _conda_spec(conda, where))
    if pypi is not None:
        spec = _combine(spec, _pypi_spec(pypi, where, root))
    return spec


def _combine(a: Spec, b: Spec) -> Spec:
    if a.python and b.python and a.python != b.python:
        from flowenv.errors import SpecError

        raise SpecError("%s: python=%r and python=%r disagree" % (b.origin, a.python, b.python))
    return a.overridden_by(b)


def _conda_spec(deco, where) -> Spec:
    a = deco.attributes
    return Spec.from_conda_libraries(a.get("libraries") or {}, a.get("channels") or (),
                                     a.get("python"), origin="@%s on %s" % (deco.name, where))


def _pypi_spec(deco, where, root=None) -> Spec:
    a = deco.attributes
    return Spec.from_pypi_packages(a.get("packages") or {}, a.get("python"),
                                   a.get("extra_indices") or (),
                                   origin="@%s on %s" % (deco.name, where), root=root)


def _named(deco, where, environ, flow_dir):
    a = deco.attributes
    fetch = bool(a.get("fetch_at_exec"))
    name, pathspec, lock = a.get("name"), a.get("pathspec"), None
    if not fetch:
        name = expand_vars(name, where, environ) if name else None
        pathspec = expand_vars(pathspec, where, environ) if pathspec else None
    if a.get("lock"):
        path = os.path.join(flow_dir or os.getcwd(), expand_vars(a["lock"], where, environ))
        lock = LockRef(os.path.normpath(path), tuple(a.get("extras") or ()),
                       tuple(a.get("groups") or ()))
    return name, pathspec, lock, fetch


def _names_env(deco) -> bool:
    return any(deco.attributes.get(k) for k in ("name", "pathspec", "lock"))


def plan_step(flow_name: str, flow_decos: dict, step_name: str, step_decos: list,
              environ: Mapping[str, str], flow_dir: Optional[str] = None) -> StepPlan:
    """The plan of one step. environ expands @{VAR} in names, pathspecs and lock paths;
    relative lock paths, and relative paths in packages, are flow_dir's (the flow file's
    folder)."""
    by_name = {d.name: d for d in step_decos}
    step_named = by_name.get("named_env")
    step_conda, step_pypi = by_name.get("conda"), by_name.get("pypi")
    base_named = _deco(flow_decos, "named_env_base")
    flow_conda, flow_pypi = _deco(flow_decos, "conda_base"), _deco(flow_decos, "pypi_base")
    where = "step %s" % step_name

    if step_named is not None and step_named.attributes.get("disabled"):
        return StepPlan(step_name, disabled=True, source="@named_env(disabled=True)")
    step_level = [d for d in (step_conda, step_pypi) if d is not None]
    if any(d.attributes.get("disabled") for d in step_level):
        return StepPlan(step_name, disabled=True, source="@%s(disabled=True)" % step_level[0].name)
    extension = _spec_from(step_conda, step_pypi, where, flow_dir) if step_level else None

    ref, ref_where = None, None
    if step_named is not None and _names_env(step_named):
        ref, ref_where = step_named, "@named_env on step %s" % step_name
    elif base_named is not None and not base_named.attributes.get("disabled") and (
            _names_env(base_named)):
        ref, ref_where = base_named, "@named_env_base on %s" % flow_name
    if ref is not None:
        name, pathspec, lock, fetch = _named(ref, ref_where, environ, flow_dir)
        return StepPlan(step_name, name=name, pathspec=pathspec, lock=lock, fetch_at_exec=fetch,
                        spec=extension if extension and not extension.is_empty else None,
                        source=ref_where, decorator=ref.name)

    # No named environment: decorators define the packages.
    if not step_level:
        if base_named is not None and base_named.attributes.get("disabled"):
            return StepPlan(step_name, disabled=True, source="@named_env_base(disabled=True)")
        flow_level = [d for d in (flow_conda, flow_pypi) if d is not None]
        if any(d.attributes.get("disabled") for d in flow_level):
            return StepPlan(step_name, disabled=True, source="@%s(disabled=True)" % flow_level[0].name)
    flow_spec = _spec_from(flow_conda, flow_pypi, flow_name, flow_dir)
    spec = flow_spec.overridden_by(extension) if extension is not None else flow_spec
    return StepPlan(step_name, spec=spec.replace(origin="step %s of %s" % (step_name, flow_name)),
                    source="decorators")
