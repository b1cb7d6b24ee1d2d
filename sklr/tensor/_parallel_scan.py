"""Inclusive associative scan over the leading axis of a tuple of arrays, in batched steps.

``associative_scan(combine, elements)`` returns ``out[t] = e_0 * e_1 * ... * e_t``
for an associative ``*`` given as ``combine(earlier, later)``, which acts
elementwise along the leading axis of its tuple arguments. The odd-even
recursion (Blelloch's scan): combine neighbouring pairs, scan the half-length
sequence of pairs, then combine each remaining even element with the prefix
before it. Each of the ``log2(T)`` levels is a few batched array operations,
``O(T)`` combinations in all, so the loop in Python has ``O(log T)`` steps
whatever ``T`` is.
"""

from ..utils._array_api import namespace_and_device

__all__ = ["associative_scan"]


def associative_scan(combine, elements, *, reverse=False):
    """Prefix (or, with ``reverse``, suffix) combinations of ``elements`` along axis 0.

    Parameters
    ----------
    combine : callable
        ``combine(earlier, later)`` on two tuples of arrays with equal leading
        lengths, returning one such tuple; associative.
    elements : tuple of arrays
        Arrays of the same leading length ``T``.
    reverse : bool, default=False
        Return the suffixes ``e_t * ... * e_{T-1}`` instead of the prefixes.

    Returns
    -------
    tuple of arrays
        Of the shapes of ``elements``.
    """
    xp, _ = namespace_and_device(elements[0])
    if reverse:
        flipped = tuple(xp.flip(e, axis=0) for e in elements)
        out = _scan(lambda later, earlier: combine(earlier, later), flipped, xp)
        return tuple(xp.flip(e, axis=0) for e in out)
    return _scan(combine, elements, xp)


def _scan(combine, elements, xp):
    T = int(elements[0].shape[0])
    if T < 2:
        return elements
    n_pairs = T // 2
    pairs = combine(tuple(e[0:2 * n_pairs:2, ...] for e in elements),
                    tuple(e[1:2 * n_pairs:2, ...] for e in elements))
    odd = _scan(combine, pairs, xp)  # prefixes ending at 1, 3, 5, ...
    # Prefixes ending at 2, 4, ...: the one ending just before, then the element.
    even = combine(tuple(o[:(T - 1) // 2, ...] for o in odd),
                   tuple(e[2::2, ...] for e in elements))
    return tuple(_interleave(e[:1, ...], ev, od, xp)
                 for e, ev, od in zip(elements, even, odd))


def _interleave(first, even, odd, xp):
    """``first, odd[0], even[0], odd[1], even[1], ...`` (``even`` may be one shorter)."""
    n = int(odd.shape[0])
    rest = xp.stack([odd[:int(even.shape[0]), ...], even], axis=1)
    rest = xp.reshape(rest, (-1, *odd.shape[1:]))
    parts = [first, rest]
    if int(even.shape[0]) < n:
        parts.append(odd[n - 1:, ...])
    return xp.concat(parts, axis=0)
