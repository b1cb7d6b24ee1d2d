"""The installed distribution: one version everywhere, the licence shipped, the test extra complete."""

import importlib.metadata
import re
from pathlib import Path

import pytest

import sklr

ROOT = Path(__file__).resolve().parents[1]


def _distribution():
    try:
        return importlib.metadata.distribution("sklr")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("sklr is not installed (run from a checkout on PYTHONPATH)")


def test_installed_version_is_the_package_version():
    assert _distribution().version == sklr.__version__


def test_licence_is_spdx_and_shipped():
    dist = _distribution()
    assert dist.metadata["License-Expression"] == "BSD-3-Clause"
    shipped = [f for f in dist.files or () if f.name == "LICENSE"]
    assert shipped, "LICENSE is not in the installed distribution"
    assert "BSD 3-Clause License" in shipped[0].read_text()


def test_test_extra_has_pandas():
    requires = _distribution().metadata.get_all("Requires-Dist") or []
    assert any(re.match(r"pandas\b.*extra == .test.", r) for r in requires), requires


def test_citation_version_matches():
    citation = ROOT / "CITATION.cff"
    if not citation.exists():
        pytest.skip("no checkout beside the tests")
    match = re.search(r"^version:\s*(\S+)\s*$", citation.read_text(), flags=re.MULTILINE)
    assert match is not None and match.group(1) == sklr.__version__


def test_show_versions_lists_dependencies(capsys):
    sklr.show_versions()
    out = capsys.readouterr().out
    for name in ("sklr", "scikit-learn", "numpy", "scipy", "joblib", "SCIPY_ARRAY_API", "BLAS"):
        assert name in out
    assert f"sklr: {sklr.__version__}" in out
