"""What environment each step asks for, from its decorators and the flow's: the seed's
merge, override and disable rules in one place, for every spelling users of the
reference extension write (its deprecated ones are read, and noted to be said once).

Each decorator is read into a part (packages, a named reference, disabled); the parts of
one level (the step's, or the flow's) are merged, several decorators of one kind
included; then the step's level overrides or extends the flow's."""

import os
from dataclasses import dataclass, field
from typing import List, Mapping, Optional, Sequence, Tuple

from flowenv import Spec, expand_vars
from flowenv.errors import SpecError
from flowenv.spec import conda_name, requirement_name, text_list

# Decorator name -> what it declares. @pip / @pip_base are the reference's old names.
KIND = {"conda": "conda", "conda_base": "conda", "pypi": "pypi", "pypi_base": "pypi",
        "pip": "pypi", "pip_base": "pypi", "sys_packages": "sys", "sys_packages_base": "sys",
        "named_env": "named", "named_env_base": "named"}
RENAMED = {"pip": "pypi", "pip_base": "pypi_base"}
# Deprecated arguments (the reference still reads them): (kind, argument) -> the
# decorator and argument that now say it.
MOVED = {("conda", "pip_packages"): ("pypi", "packages"),
         ("conda", "pip_sources"): ("pypi", "extra_indices"),
         ("conda", "sources"): ("conda", "channels"),
         ("pypi", "sources"): ("pypi", "extra_indices")}
MOVED.update({(kind, arg): ("named_env", arg) for kind in ("conda", "pypi")
              for arg in ("name", "pathspec", "fetch_at_exec")})
# The arguments that name an environment, by kind (@pypi's `extras` are pip options).
_REFERENCE_KEYS = {"named": ("name", "pathspec", "lock", "extras", "groups", "fetch_at_exec"),
                   "conda": ("name", "pathspec", "fetch_at_exec"),
                   "pypi": ("name", "pathspec", "fetch_at_exec"), "sys": ()}


@dataclass(frozen=True)
class LockRef:
    """A lock file named by a decorator (lock=...), with the extras and groups it selects."""

    path: str  # absolute: relative paths are the flow file's folder's
    extras: Tuple[str, ...] = ()
    groups: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Deprecation:
    """A deprecated spelling, where it was written, and what to write instead."""

    spelling: str  # "@conda(pip_packages=...)"
    instead: str  # "@pypi(packages=...)"
    where: str  # "step start" or "flow MyFlow"


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
    deprecations: Tuple[Deprecation, ...] = field(default=(), compare=False)

    @property
    def reference(self):
        return self.name or self.pathspec or (self.lock.path if self.lock else None)


@dataclass(frozen=True)
class _Part:
    """What one decorator declares."""

    decorator: str
    spec: Optional[Spec] = None  # conda / PyPI packages, channels, indexes, python, sys
    reference: Optional[dict] = None  # name / pathspec / lock (+ extras, groups), fetch_at_exec
    disabled: bool = False
    defines: bool = False  # a @conda / @pypi that asks for packages (not only a reference)


@dataclass(frozen=True)
class _Level:
    """The merged parts of the step's decorators, or of the flow's."""

    spec: Optional[Spec]  # None: no @conda / @pypi / @sys_packages at this level
    reference: Optional[dict]
    referrer: Optional[str]  # the decorator holding the reference
    disabled: Optional[str]  # the decorator that disables, if one does
    defines: bool  # @conda / @pypi (or their old names) ask for packages at this level


def _given(value) -> bool:
    return value not in (None, {}, [], (), "", False)


def _deprecations(deco, at_flow: bool, where: str) -> List[Deprecation]:
    kind, a = KIND[deco.name], deco.attributes
    out = []
    if deco.name in RENAMED:
        out.append(Deprecation("@" + deco.name, "@" + RENAMED[deco.name], where))
    for (moved_from, arg), (to, new_arg) in sorted(MOVED.items()):
        if moved_from == kind and _given(a.get(arg)):
            to = to + "_base" if at_flow else to
            out.append(Deprecation("@%s(%s=...)" % (deco.name, arg),
                                   "@%s(%s=...)" % (to, new_arg), where))
    return out


def _pypi_packages(packages, python, indices, origin, root) -> Spec:
    """@pypi's {name: version}; the reference's old pip_packages may also be a list.
    Relative paths in them are relative to root (the flow file's folder)."""
    if isinstance(packages, (list, tuple)):
        if not all(isinstance(p, str) for p in packages):
            raise SpecError("packages must be a dict {name: version} or a list of "
                            "requirements, not %r" % (packages,))
        spec = Spec(pypi=tuple(packages), origin=origin, root=root)
        return spec.overridden_by(Spec.from_pypi_packages({}, python, indices, origin, root))
    return Spec.from_pypi_packages(packages or {}, python, indices, origin, root)


def _virtual_packages(packages, origin) -> Spec:
    """@sys_packages(packages={"__cuda": "12.2"}); a value "" removes a default."""
    if not isinstance(packages, Mapping):
        raise SpecError("packages must be a dict {\"__cuda\": \"12.2\"}, not %r" % (packages,))
    entries = []
    for name, version in packages.items():
        if not isinstance(name, str) or not name.startswith("__"):
            raise SpecError("%r is not a virtual package: their names start with __, such "
                            "as __cuda or __glibc" % (name,))
        if version is not None and not isinstance(version, (str, int, float)):
            raise SpecError("the version of %s must be a string such as '12.2', not %r"
                            % (name, version))
        entries.append("%s=%s" % (name, "" if version is None else version))
    return Spec(virtual_packages=tuple(entries), origin=origin)


def _part(deco, where: str, flow_dir: str, environ, default_channels=()) -> _Part:
    """The part one decorator declares; errors name it."""
    from flowenv.parsers.requirements_txt import pip_options_spec

    kind, a = KIND[deco.name], deco.attributes
    origin = "@%s on %s" % (deco.name, where)
    flow_dir = flow_dir or os.getcwd()
    reference = {k: a.get(k) for k in _REFERENCE_KEYS[kind] if _given(a.get(k))}
    named = [k for k in ("name", "pathspec", "lock") if reference.get(k)]
    if len(named) > 1:
        raise SpecError("give one of name=, pathspec= or lock=, not both %s"
                        % " and ".join("%s=%r" % (k, reference[k]) for k in named))
    if not named:
        reference = None  # fetch_at_exec alone: check_reference names the mistake
    disabled = bool(a.get("disabled"))
    if kind == "named":
        return _Part(deco.name, None, reference, disabled)
    if kind == "sys":
        return _Part(deco.name, _virtual_packages(a.get("packages") or {}, origin), None,
                     disabled)
    if kind == "conda":
        libraries = dict(a.get("libraries") or {})
        libraries.update(a.get("packages") or {})  # OSS Metaflow's spelling
        channels = list(text_list(a.get("channels"), "channels")
                        + text_list(a.get("sources"), "sources"))
        if channels:  # more channels to search, as for the reference: the defaults stay
            channels += [c for c in default_channels if c not in channels]
        spec = Spec.from_conda_libraries(libraries, channels, a.get("python"), origin)
        old_pip = _pypi_packages(a.get("pip_packages"), None,
                                 text_list(a.get("pip_sources"), "pip_sources"), origin, flow_dir)
        spec = _merged([spec, old_pip], origin)
    else:
        indices = (text_list(a.get("extra_indices"), "extra_indices")
                   + text_list(a.get("sources"), "sources"))
        spec = _pypi_packages(a.get("packages"), a.get("python"), indices, origin, flow_dir)
        conda_only = Spec.from_conda_libraries(a.get("conda_only") or {}, (), None, origin)
        options = pip_options_spec(text_list(a.get("extras"), "extras"), flow_dir, environ,
                                   origin)
        spec = _merged([spec, conda_only, options], origin)
    defines = reference is None or not (spec.is_empty and spec.python is None)
    return _Part(deco.name, spec, reference, disabled, defines)


def _merged(specs: Sequence[Spec], where: str) -> Spec:
    """Specs of one level together; the same package asked for twice, differently, is an
    error naming both."""
    out = Spec(origin=where, root=next((s.root for s in specs if s.root), None))
    for spec in specs:
        if out.python and spec.python and out.python != spec.python:
            raise SpecError("python=%r and python=%r disagree" % (out.python, spec.python))
        for mine, theirs, name_of in ((out.pypi, spec.pypi, requirement_name),
                                      (out.conda, spec.conda, conda_name),
                                      (out.virtual_packages, spec.virtual_packages,
                                       lambda v: v.split("=", 1)[0])):
            by_name = {name_of(r): r for r in mine}
            for req in theirs:
                if by_name.get(name_of(req), req) != req:
                    raise SpecError("%r and %r both ask for %s: keep one"
                                    % (by_name[name_of(req)], req, name_of(req)))
        out = out.overridden_by(spec)
    return out.replace(origin=where)


def _level(decos, where: str, flow_dir: str, environ, scope: dict,
           default_channels=()) -> _Level:
    parts = []
    for deco in decos:
        if deco.name in KIND:
            try:
                parts.append(_part(deco, where, flow_dir, environ, default_channels))
            except SpecError as exc:
                raise exc.within(decorator=deco.name, **scope) from None
    specs = [p.spec for p in parts if p.spec is not None]
    try:
        spec = _merged(specs, where) if specs else None
    except SpecError as exc:
        raise exc.within(**scope) from None
    referring = [p for p in parts if p.reference]
    for other in referring[1:]:
        if other.reference != referring[0].reference:
            raise SpecError("@%s and @%s name different environments (%s and %s): keep one"
                            % (referring[0].decorator, other.decorator,
                               _shown(referring[0].reference), _shown(other.reference)),
                            **scope)
    disabling = [p.decorator for p in parts if p.disabled]
    return _Level(spec, referring[0].reference if referring else None,
                  referring[0].decorator if referring else None,
                  disabling[0] if disabling else None, any(p.defines for p in parts))


def _shown(reference: dict) -> str:
    return ", ".join("%s=%r" % (k, reference[k]) for k in ("name", "pathspec", "lock")
                     if reference.get(k))


def _named(reference, where, environ, flow_dir):
    fetch = bool(reference.get("fetch_at_exec"))
    name, pathspec, lock = reference.get("name"), reference.get("pathspec"), None
    if not fetch:
        name = expand_vars(name, where, environ) if name else None
        pathspec = expand_vars(pathspec, where, environ) if pathspec else None
    if reference.get("lock"):
        path = os.path.join(flow_dir or os.getcwd(), expand_vars(reference["lock"], where, environ))
        extras, groups = reference.get("extras") or (), reference.get("groups") or ()
        lock = LockRef(os.path.normpath(path),
                       tuple([extras] if isinstance(extras, str) else extras),
                       tuple([groups] if isinstance(groups, str) else groups))
    return name, pathspec, lock, fetch


def flow_level(flow_name: str, flow_decos: dict, environ: Mapping[str, str],
               flow_dir: Optional[str] = None, default_channels=()) -> _Level:
    """The flow decorators merged; a named base with packages of the flow's own is an error
    (named environments are already resolved)."""
    decos = [d for name in KIND for d in (flow_decos.get(name) or [])]
    level = _level(decos, "flow %s" % flow_name, flow_dir, environ, {"flow": flow_name},
                   default_channels)
    if level.reference and level.defines:
        defining = sorted({d.name for d in decos if KIND[d.name] in ("conda", "pypi")})
        raise SpecError(
            "@%s names an environment for every step (%s), so @%s cannot add packages on "
            "the flow: named environments are already resolved"
            % (level.referrer, _shown(level.reference), " or @".join(defining)),
            flow=flow_name, hint="Add packages on steps with @conda or @pypi instead.")
    return level


def plan_step(flow_name: str, flow_decos: dict, step_name: str, step_decos: list,
              environ: Mapping[str, str], flow_dir: Optional[str] = None,
              gpu_virtual_packages: Sequence[str] = (), default_channels: Sequence[str] = ()
              ) -> StepPlan:
    """The plan of one step. environ expands @{VAR} in names, pathspecs and lock paths;
    relative lock paths, and relative paths in packages, are flow_dir's (the flow file's
    folder). gpu_virtual_packages
    (a setting) apply to steps that ask for a GPU; default_channels (FLOWENV_CONDA_CHANNELS)
    are still searched when a decorator names channels."""
    deprecations = tuple(
        [d for name in KIND for deco in (flow_decos.get(name) or [])
         for d in _deprecations(deco, True, "flow %s" % flow_name)]
        + [d for deco in step_decos if deco.name in KIND
           for d in _deprecations(deco, False, "step %s" % step_name)])
    flow = flow_level(flow_name, flow_decos, environ, flow_dir, default_channels)
    step = _level(step_decos, "step %s" % step_name, flow_dir, environ, {"step": step_name},
                  default_channels)
    plan = _plan(flow_name, flow, step_name, step, environ, flow_dir)
    if plan.spec is not None and gpu_virtual_packages and asks_for_gpu(step_decos):
        # Under the step's own @sys_packages: with_defaults keeps the spec's entries.
        plan = _replace(plan, spec=plan.spec.with_defaults(virtual_packages=gpu_virtual_packages))
    return _replace(plan, deprecations=deprecations)


def asks_for_gpu(step_decos) -> bool:
    """A decorator of the step (@resources, @kubernetes, @batch, ...) asks for a GPU."""
    return any(str(d.attributes.get("gpu") or "0") not in ("0", "None", "")
               for d in step_decos if isinstance(getattr(d, "attributes", None), dict))


def _replace(plan: StepPlan, **changes) -> StepPlan:
    import dataclasses

    return dataclasses.replace(plan, **changes)


def _plan(flow_name, flow: _Level, step_name, step: _Level, environ, flow_dir) -> StepPlan:
    if step.disabled:
        return StepPlan(step_name, disabled=True, source="@%s(disabled=True)" % step.disabled)
    extension = step.spec

    ref, ref_where, referrer = None, None, None
    if step.reference:
        ref, referrer = step.reference, step.referrer
        ref_where = "@%s on step %s" % (referrer, step_name)
    elif flow.reference and not flow.disabled:
        ref, referrer = flow.reference, flow.referrer
        ref_where = "@%s on %s" % (referrer, flow_name)
    if ref is not None:
        name, pathspec, lock, fetch = _named(ref, ref_where, environ, flow_dir)
        adds = extension if extension is not None and not extension.is_empty else None
        if fetch and adds is not None:
            raise SpecError(
                "it adds packages to a named environment fetched at execution "
                "(fetch_at_exec=True), which cannot be extended", step=step_name,
                hint="Drop fetch_at_exec or the extra packages.")
        return StepPlan(step_name, name=name, pathspec=pathspec, lock=lock, fetch_at_exec=fetch,
                        spec=adds, source=ref_where, decorator=referrer)

    # No named environment: decorators define the packages.
    if not step.defines and flow.disabled:
        return StepPlan(step_name, disabled=True, source="@%s(disabled=True)" % flow.disabled)
    spec = flow.spec or Spec()
    spec = spec.overridden_by(extension) if extension is not None else spec
    return StepPlan(step_name, spec=spec.replace(origin="step %s of %s" % (step_name, flow_name)),
                    source="decorators")
