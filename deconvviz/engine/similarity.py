"""How alike two explanation maps are: the four measures of Adebayo et al. (NeurIPS 2018), section 3.

Every measure takes two maps of the same shape (H, W) and returns a float in [-1, 1] (1: the same map),
or NaN where it is undefined (a constant map has no ranks and no structure to compare):

* ``spearman``: Spearman rank correlation of the absolute maps (ties get their average rank);
* ``spearman_signed``: the same on the signed maps;
* ``ssim``: structural similarity (scikit-image) of the absolute maps, each scaled to [0, 1] by its maximum
  (the maps' own scale changes when weights are randomised; the measure is about their shape);
* ``hog``: Pearson correlation of the histogram-of-oriented-gradients vectors of the scaled absolute maps
  (cells of 1/8 of the map's shorter side: 28 px at 224, 3 px at 28).

A map compared with itself scores exactly 1 on every measure (tests/engine/test_similarity.py). A test
compares every step's map with one reference: :class:`Reference` ranks it and takes its HOG once.
"""

from __future__ import annotations

import numpy as np

# scipy and scikit-image are imported where used: `import deconvviz` should not pay for them.

MEASURES = ("spearman", "spearman_signed", "ssim", "hog")


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Return the Pearson correlation of two arrays' entries (float64), NaN if either is constant."""
    a = np.asarray(a, np.float64).ravel()
    b = np.asarray(b, np.float64).ravel()
    a = a - a.mean()
    b = b - b.mean()
    # dot(a, a) * dot(a, a) has the exact square root dot(a, a): a map against itself gives exactly 1.
    denominator = np.sqrt(np.dot(a, a) * np.dot(b, b))
    if denominator == 0 or not np.isfinite(denominator):
        return float("nan")
    return float(np.clip(np.dot(a, b) / denominator, -1.0, 1.0))


def average_ranks(a: np.ndarray) -> np.ndarray:
    """Return the 1-based ranks (float64) of an array's entries, flattened, ties given their average rank:
    scipy's ``rankdata(a, "average")``, all NaN if an entry is NaN.

    Ties are found after a plain (unstable) sort, which is several times faster than the stable sort
    ``rankdata`` uses and gives the same average ranks, as the order within a run of ties does not matter.
    """
    a = np.asarray(a).ravel()
    if a.size and np.isnan(a).any():
        return np.full(a.size, np.nan)
    order = np.argsort(a)
    ordered = a[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    counts = np.diff(np.r_[starts, a.size])
    ranks = np.empty(a.size)
    ranks[order] = np.repeat(starts + (counts + 1) / 2.0, counts)
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Return the Spearman rank correlation of two maps' entries (average ranks for ties)."""
    return pearson(average_ranks(a), average_ranks(b))


def _unit(a: np.ndarray) -> np.ndarray | None:
    """Return |a| scaled to [0, 1] by its maximum (float64), or None for an all-zero map."""
    a = np.abs(np.asarray(a, np.float64))
    top = a.max()
    return a / top if top > 0 and np.isfinite(top) else None


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Return the SSIM of the two absolute maps scaled to [0, 1] (scikit-image's 7x7 window, smaller for
    maps under 7 pixels)."""
    return _ssim_unit(_unit(a), _unit(b))


def _ssim_unit(ua: np.ndarray | None, ub: np.ndarray | None) -> float:
    from skimage.metrics import structural_similarity

    if ua is None or ub is None:
        return float("nan")
    side = min(ua.shape)
    window = min(7, side if side % 2 else side - 1)
    if window < 3:
        return float("nan")
    return float(structural_similarity(ua, ub, data_range=1.0, win_size=window))


def hog_vector(a: np.ndarray) -> np.ndarray | None:
    """Return the HOG descriptor of the scaled absolute map (9 orientations, cells of 1/8 of the shorter
    side, at least 1 pixel, 2x2-cell blocks), or None for an all-zero map or one under 2x2 pixels."""
    return _hog_unit(_unit(a))


def _hog_unit(u: np.ndarray | None) -> np.ndarray | None:
    from skimage.feature import hog

    if u is None or min(u.shape) < 2:
        return None
    cell = max(1, min(u.shape) // 8)
    return hog(u, orientations=9, pixels_per_cell=(cell, cell), cells_per_block=(2, 2), feature_vector=True)


def hog_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Return the Pearson correlation of the two maps' HOG descriptors."""
    ha, hb = hog_vector(a), hog_vector(b)
    if ha is None or hb is None:
        return float("nan")
    return pearson(ha, hb)


class Reference:
    """A reference map (its absolute and signed forms) prepared once: its ranks, scaled map and HOG."""

    def __init__(self, abs_map: np.ndarray, signed_map: np.ndarray) -> None:
        self.abs_map, self.signed_map = np.asarray(abs_map), np.asarray(signed_map)
        self.abs_ranks = average_ranks(abs_map)
        self.signed_ranks = average_ranks(signed_map)
        self.unit = _unit(abs_map)
        self.hog = _hog_unit(self.unit)

    def compare(self, abs_map: np.ndarray, signed_map: np.ndarray) -> dict[str, float]:
        """Return measure name -> value (see :data:`MEASURES`) between a map and this reference."""
        unit = _unit(abs_map)
        hog = _hog_unit(unit)
        return {
            "spearman": pearson(self.abs_ranks, average_ranks(abs_map)),
            "spearman_signed": pearson(self.signed_ranks, average_ranks(signed_map)),
            "ssim": _ssim_unit(self.unit, unit),
            "hog": float("nan") if self.hog is None or hog is None else pearson(self.hog, hog),
        }


def similarities(reference_abs: np.ndarray, reference_signed: np.ndarray, abs_map: np.ndarray,
                 signed_map: np.ndarray) -> dict[str, float]:
    """Return measure name -> value (see :data:`MEASURES`) between a map and the reference map."""
    return Reference(reference_abs, reference_signed).compare(abs_map, signed_map)
