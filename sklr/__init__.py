"""sklr: scikit-learn-compatible estimators from recent numerical linear algebra papers.

Every estimator runs on NumPy and, with
``sklearn.set_config(array_api_dispatch=True)``, on the namespace of its input
arrays (CuPy on a GPU, or any array API library).
"""

from ._show_versions import show_versions
from .cluster import SDPClusterer
from .completion import MatrixCompleter
from .decomposition import SparseBayesKronecker
from .linear_model import LpRegressor, SketchedRegressor
from .sampling import SensitivitySampler
from .tensor import FunctionalTucker
from .transport import SinkhornNewtonOT

__version__ = "0.1.0.dev0"

__all__ = [
    "FunctionalTucker",
    "LpRegressor",
    "MatrixCompleter",
    "SDPClusterer",
    "SensitivitySampler",
    "SinkhornNewtonOT",
    "SketchedRegressor",
    "SparseBayesKronecker",
    "__version__",
    "show_versions",
]
