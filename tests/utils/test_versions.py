"""The lower bounds pyproject.toml declares are the versions CI's oldest-versions step installs."""

import pathlib
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = pathlib.Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
CONSTRAINTS = ROOT / ".ci" / "oldest-constraints.txt"

pytestmark = pytest.mark.skipif(
    not (PYPROJECT.exists() and CONSTRAINTS.exists()), reason="needs a source checkout"
)


def _declared():
    """The dependencies and the test extra, with the extras it includes (``sklr[dask]``) expanded."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    extras = project["optional-dependencies"]

    def expand(requirements):
        for requirement in map(Requirement, requirements):
            if requirement.name == project["name"]:
                for extra in sorted(requirement.extras):
                    yield from expand(extras[extra])
            else:
                yield requirement

    return list(expand(project["dependencies"] + extras["test"]))


def _pinned():
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", line
            pins[requirement.name.lower()] = Version(spec.version)
    return pins


def test_oldest_constraints_pin_every_lower_bound():
    pins = _pinned()
    for requirement in _declared():
        lower = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        assert len(lower) == 1, f"{requirement} needs one lower bound (>=)"
        assert pins.get(requirement.name.lower()) == lower[0], (
            f"{requirement}: .ci/oldest-constraints.txt must pin {requirement.name}=={lower[0]}"
        )
        assert requirement.specifier.contains(lower[0])


def test_test_extra_includes_the_dask_extra():
    # CI installs the test extra only: tests/dask must run there, not skip.
    names = {requirement.name for requirement in _declared()}
    assert {"dask", "distributed", "pytest-timeout"} <= names


def test_scikit_learn_upper_bound_is_the_next_major_release():
    (sklearn,) = [r for r in _declared() if r.name == "scikit-learn"]
    upper = [Version(s.version) for s in sklearn.specifier if s.operator == "<"]
    assert upper == [Version("2")]
