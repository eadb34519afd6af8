"""Exact incremental inference for occluded inputs (Nakandala et al., SIGMOD 2019), on any traceable graph.

The network is traced once with ``torch.fx`` and run once on the unoccluded image, keeping every node's
output (:mod:`.net`). An occluded batch then travels through the graph as :class:`Delta` values: per
sample, a box of positions that may differ from the unoccluded output (the same size for every sample of
the batch, its corner per sample) and the new values inside it. Outside the box the value *is* the cached
one. Each node propagates the box by its op's rule (:mod:`.rules`, with the window geometry of
:mod:`.geometry` and the box arithmetic of :mod:`.boxes`):

- convolutions and max/avg pooling (any kernel, stride, padding, dilation, groups, depthwise): the output
  window that can see the changed box, recomputed from a window of the cached input with the new values
  pasted in; where that window covers most of the output, the whole layer is recomputed instead;
- pointwise-in-space operations (ReLU, ReLU6, batch norm, local response norm, ...): the box is kept;
- constant padding: the box moves;
- sums and products of two maps (residual additions), concatenation: the union of the boxes;
- everything after the maps stop being spatial (global pooling, flatten, linear): the whole tensor.

Operations it does not know raise :class:`Unsupported` when the graph is built, and the caller falls back
to batched full inference; so does a model ``torch.fx`` cannot trace. ``run(..., field=f)`` with f < 1
approximates (Krypton's projective-field threshold): values outside a capped box keep the cached ones.
A run of one box (the live square) goes through a plan compiled once per tapped node (:mod:`.single`): the
same answer as the general run, without re-deriving each node's rule, geometry and arguments per call.
"""

from .delta import Delta, Unsupported
from .net import FULL_FRACTION, IncrementalNet

__all__ = ["Delta", "FULL_FRACTION", "IncrementalNet", "Unsupported"]
