"""The layers of sklr, checked against the code's imports (doc/architecture.rst).

From the ground up: the backend (``sklr.utils``), the shared linear-algebra
core (``sklr.linalg``), the families (one estimator family each), the package
face and the tour. An arrow may only point down; families never import each
other, the datasets or the face; the package never imports the benchmarks.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "sklr"

FAMILIES = {
    "linear_model", "sampling", "completion", "transport", "cluster", "decomposition", "tensor",
}

# part -> the parts it may import (besides itself).
ALLOWED = {
    "utils": set(),
    "linalg": {"utils"},
    "datasets": {"utils", "linalg"},
    **{family: {"utils", "linalg"} for family in FAMILIES},
    "face": FAMILIES | {"utils", "face"},
    "testing": FAMILIES | {"utils", "linalg", "face"},
    "tour": FAMILIES | {"utils", "linalg", "datasets", "face"},
}


def _part(module):
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("__version__", "_show_versions"):
        return "face"
    if parts[1] in ("__main__", "_tour"):
        return "tour"
    if parts[1] == "_testing":
        return "testing"
    return parts[1]


def _imports():
    """(importing module, imported sklr module) for every import in sklr/."""
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        module = ".".join(rel.parts)
        is_package = module.endswith(".__init__")
        if is_package:
            module = module[: -len(".__init__")]
        package = module if is_package else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target == "sklr" or target.startswith("sklr."):
                    if node.module:
                        yield module, target
                    else:  # from . import x
                        for alias in node.names:
                            yield module, f"{target}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "sklr" or alias.name.startswith("sklr."):
                        yield module, alias.name
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
                "import_module", "__import__",
            ) or (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module"):
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and str(arg.value).startswith("sklr"):
                        yield module, arg.value
                    elif isinstance(arg, ast.JoinedStr):  # f"sklr.{name}": the whole package
                        yield module, "sklr"


def test_every_import_points_down():
    wrong = []
    for module, target in _imports():
        src, dst = _part(module), _part(target)
        if src == dst:
            continue
        if dst not in ALLOWED.get(src, set()):
            wrong.append(f"{module} -> {target} ({src} may import {sorted(ALLOWED.get(src, ()))})")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_the_checker_sees_a_wrong_import(tmp_path):
    # The walk must find an upward import: a fake backend module importing a family.
    fake = tmp_path / "sklr"
    (fake / "utils").mkdir(parents=True)
    (fake / "utils" / "_bad.py").write_text("from ..cluster import SDPClusterer\n")
    global ROOT
    saved, ROOT = ROOT, fake
    try:
        with pytest.raises(AssertionError, match="sklr.utils._bad -> sklr.cluster"):
            test_every_import_points_down()
    finally:
        ROOT = saved


@pytest.mark.parametrize("library", ["cupy", "cupyx", "dask", "torch"], ids=str.upper)
def test_optional_libraries_only_in_the_backend(library):
    # Only sklr/utils/_namespace.py may name CuPy (and, later, Dask); nothing imports torch.
    allowed = {"cupy": {"utils/_namespace.py"}, "cupyx": {"utils/_namespace.py"},
               "dask": {"utils/_namespace.py"}, "torch": set()}[library]
    found = set()
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            if any(n == library or n.startswith(library + ".") for n in names):
                found.add(path.relative_to(ROOT).as_posix())
    assert found <= allowed, f"{library} imported outside the backend: {sorted(found - allowed)}"


def test_one_branch_on_the_array_library():
    # Only the backend's dispatch asks which library an array belongs to.
    import re

    pattern = re.compile(r"\bis_(cupy|numpy)_array\b|\.__name__\.endswith\(\"cupy\"\)")
    found = sorted(
        path.relative_to(ROOT).as_posix() for path in ROOT.rglob("*.py")
        if path.relative_to(ROOT).as_posix() != "utils/_namespace.py"
        and pattern.search(path.read_text())
    )
    assert found == [], f"branches on the array library outside utils/_namespace.py: {found}"
