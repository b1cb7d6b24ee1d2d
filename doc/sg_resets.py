"""Reset functions run by sphinx-gallery before each example (``reset_modules``)."""

import sklearn


def reset_sklearn_config(gallery_conf, fname):
    """Restore scikit-learn's global configuration between examples.

    An example that turns on ``array_api_dispatch`` (or changes any other
    option) must not leak it into the next one.
    """
    sklearn.set_config(**_DEFAULTS)


_DEFAULTS = dict(sklearn.get_config())
