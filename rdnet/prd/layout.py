"""Placing the m hidden neurons on an H × W grid, so that each neuron is a cell of a 2-D field.

The paper draws neurons as a 2-D field without saying how they are arranged. rdnet offers:

``index``
    Row-major: neuron j sits at (j // W, j % W).
``embedding``
    Neighbours on the grid have similar initial weights: the u_j(0) are embedded in 2-D (PCA by
    default, t-SNE optional), each embedding coordinate is turned into ranks in [0, 1], and the
    neurons are assigned one-to-one to grid cells — by an optimal assignment (Hungarian
    algorithm, squared distance to the cell centres) up to 1024 neurons, and by a sort-based
    assignment (sort by the first coordinate into rows, then each row by the second) above.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from rdnet.errors import ConfigError

__all__ = ["LAYOUTS", "EMBEDDINGS", "NeuronGrid", "parse_grid", "grid_for_neurons", "neuron_layout"]

#: arrangements of the neurons on the grid
LAYOUTS = ("index", "embedding")
#: 2-D embeddings available to the ``embedding`` layout
EMBEDDINGS = ("pca", "tsne")
#: up to this many neurons the embedding layout uses the optimal (Hungarian) assignment
OPTIMAL_ASSIGNMENT_MAX_NEURONS = 1024
#: t-SNE's smallest perplexity (2) must be below the number of points
_TSNE_MIN_NEURONS = 3


@dataclass(frozen=True)
class NeuronGrid:
    """The shape of the neuron grid.

    Attributes
    ----------
    height, width : int
        H and W, with m = H · W.
    """

    height: int
    width: int

    @property
    def neurons(self) -> int:
        """m = H · W."""
        return self.height * self.width


def _nearest_squares(m: int) -> tuple[int, int]:
    root = math.isqrt(m)
    return root * root, (root + 1) * (root + 1)


def grid_for_neurons(neurons: int) -> NeuronGrid:
    """The square grid for ``neurons`` neurons; a ConfigError suggesting valid sizes otherwise."""
    if neurons < 1:
        raise ConfigError(f"--neurons must be positive, got {neurons}")
    root = math.isqrt(neurons)
    if root * root != neurons:
        below, above = _nearest_squares(neurons)
        suggestions = [str(s) for s in (below, above) if s > 0]
        raise ConfigError(
            f"--neurons {neurons} is not a perfect square, so it cannot fill a square grid; "
            f"use --neurons {' or '.join(suggestions)}, or give a rectangle with --grid HxW"
        )
    return NeuronGrid(root, root)


def parse_grid(text: str) -> NeuronGrid:
    """Parse ``"HxW"`` (e.g. ``"64x64"``) into a :class:`NeuronGrid`."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise ConfigError(f"--grid must look like HxW with positive integers (e.g. 32x32), got {text!r}")
    return NeuronGrid(int(match.group(1)), int(match.group(2)))


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = (np.arange(len(values)) + 0.5) / len(values)
    return ranks


def _embed(weights: np.ndarray, embedding: str, seed: int) -> np.ndarray:
    centred = weights - weights.mean(axis=0)
    if embedding == "pca":
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        components = vt[:2]
        # fix the sign of each component so the layout does not depend on the SVD's sign choice
        signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
        points = centred @ (components * signs[:, None]).T
        # one neuron or d_in = 1 has fewer than two directions: the missing coordinate is 0 (ties keep index order)
        return np.pad(points, ((0, 0), (0, 2 - points.shape[1])))
    if embedding == "tsne":
        from sklearn.manifold import TSNE

        if len(weights) < _TSNE_MIN_NEURONS:
            raise ConfigError(
                f"--embedding tsne needs at least {_TSNE_MIN_NEURONS} neurons (its perplexity must stay below "
                f"their number), got {len(weights)}; use --embedding pca"
            )
        perplexity = min(30.0, max(2.0, (len(weights) - 1) / 3))
        # PCA initialisation needs two input directions; d_in = 1 starts from random points
        init = "pca" if weights.shape[1] >= 2 else "random"
        return TSNE(n_components=2, init=init, random_state=seed, perplexity=perplexity).fit_transform(centred)
    raise ConfigError(f"unknown embedding {embedding!r}; choose one of: {', '.join(EMBEDDINGS)}")


def neuron_layout(
    initial_weights: np.ndarray,
    grid: NeuronGrid,
    *,
    layout: str = "index",
    embedding: str = "pca",
    seed: int = 0,
) -> np.ndarray:
    """Which neuron sits in each grid cell.

    Parameters
    ----------
    initial_weights : (m, d) array
        The neurons' initial weights u_j(0) as rows (used by ``embedding``).
    grid : NeuronGrid
        The grid; its size must equal m.
    layout : {"index", "embedding"}
        See the module docstring.
    embedding : {"pca", "tsne"}
        The 2-D embedding used by ``layout="embedding"``.
    seed : int
        Seed for t-SNE.

    Returns
    -------
    (H, W) int array
        ``cells[y, x]`` is the index j of the neuron at that cell; every neuron appears once.
    """
    m = initial_weights.shape[0]
    if grid.neurons != m:
        raise ConfigError(f"a {grid.height}x{grid.width} grid holds {grid.neurons} neurons, not {m}")
    if layout == "index":
        return np.arange(m).reshape(grid.height, grid.width)
    if layout != "embedding":
        raise ConfigError(f"unknown layout {layout!r}; choose one of: {', '.join(LAYOUTS)}")
    points = _embed(np.asarray(initial_weights, dtype=float), embedding, seed)
    ranked = np.stack([_ranks(points[:, 0]), _ranks(points[:, 1])], axis=1)
    cells = np.empty((grid.height, grid.width), dtype=np.int64)
    if m <= OPTIMAL_ASSIGNMENT_MAX_NEURONS:
        from scipy.optimize import linear_sum_assignment

        rows, cols = np.meshgrid(
            (np.arange(grid.height) + 0.5) / grid.height, (np.arange(grid.width) + 0.5) / grid.width, indexing="ij"
        )
        centres = np.stack([rows.ravel(), cols.ravel()], axis=1)
        cost = ((ranked[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        neuron_of, cell_of = linear_sum_assignment(cost)
        cells.ravel()[cell_of] = neuron_of
        return cells
    by_row = np.argsort(ranked[:, 0], kind="stable")
    for row in range(grid.height):
        members = by_row[row * grid.width:(row + 1) * grid.width]
        cells[row] = members[np.argsort(ranked[members, 1], kind="stable")]
    return cells
