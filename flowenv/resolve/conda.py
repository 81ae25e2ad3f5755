"""Conda resolution with py-rattler (not available yet)."""

from ..errors import ResolveError


def solve_conda(spec, platform, base):
    raise ResolveError(
        "%s asks for conda packages (%s): conda packages are not supported yet by flowenv; "
        "use @pypi / @pypi_base or a requirements.txt" % (spec.origin or "The spec", ", ".join(spec.conda) or "base env")
    )
