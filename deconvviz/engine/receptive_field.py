"""The box of input pixels an activation can see (its theoretical receptive field), for any graph.

Rather than walking the architecture, the network is run once more with every operation replaced by a
positive stand-in of the same geometry (convolutions and linear maps with positive weights, max-pools as
average pools, rectifiers and normalisations as identities). The gradient of one output position with
respect to the input is then positive exactly on the pixels that position depends on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from .layers import capture, run_until
from .layout import no_maps_error


@dataclass(frozen=True)
class Box:
    """Input pixel rows ``top:bottom`` and columns ``left:right`` (end exclusive), clipped to the image."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        """Return the number of rows."""
        return self.bottom - self.top

    @property
    def width(self) -> int:
        """Return the number of columns."""
        return self.right - self.left


class _PositiveStandIns(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func is F.conv2d:
            x, w = args[0], args[1]
            rest = list(args[3:])
            return F.conv2d(x, torch.full_like(w, 1.0 / w[0].numel()), None, *rest, **{k: v for k, v in kwargs.items() if k != "bias"})
        if func is F.linear:
            x, w = args[0], args[1]
            return F.linear(x, torch.full_like(w, 1.0 / w.shape[1]))
        if func is F.max_pool2d:
            return _avg_like_max(*args, **kwargs)
        if func in (F.relu, torch.relu, torch.relu_, F.relu6, F.hardtanh, F.hardtanh_, F.local_response_norm,
                    F.batch_norm, F.layer_norm, F.group_norm, F.dropout, torch.Tensor.relu, torch.Tensor.relu_, F.silu, F.gelu,
                    torch.sigmoid, torch.Tensor.sigmoid):
            return args[0] if func not in (torch.sigmoid, torch.Tensor.sigmoid) else args[0] * 0 + 0.5
        return func(*args, **kwargs)


def _avg_like_max(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    return F.avg_pool2d(x, kernel_size, stride or kernel_size, padding, ceil_mode=ceil_mode, count_include_pad=True)


def receptive_fields(net: nn.Module, input_shape: tuple[int, ...], layer: str,
                     positions: list[tuple[int, int]]) -> list[Box]:
    """Return, for each (row, col) of ``layer``'s output, the box of input pixels it depends on.

    ``input_shape`` is the model's input (1, C, H, W). The result holds for every channel of the layer.
    """
    if not positions:
        return []
    act, x, layout = _trace(net, input_shape, layer)
    return _boxes(act, x, layout, positions, input_shape)


def _trace(net: nn.Module, input_shape: tuple[int, ...], layer: str):
    """Return (``layer``'s output, the input leaf, its Layout) of the positive stand-in network (a graph to
    differentiate); raises DeconvvizError for a layer without maps."""
    x = torch.ones((1,) + tuple(input_shape[1:]), dtype=torch.float64, requires_grad=True)
    # Only the geometry matters; float64 keeps the tiny positive weights of deep nets from underflowing.
    state = {k: (v.to("cpu", torch.float64) if v.is_floating_point() else v.cpu())
             for k, v in {**dict(net.named_parameters()), **dict(net.named_buffers())}.items()}
    with torch.enable_grad(), _PositiveStandIns(), capture(net, layer) as box:
        act = run_until(_Stateless(net, state), x, box, layer)
    layout = box["layout"]
    if not layout.spatial:
        raise no_maps_error(layer, tuple(act.shape[1:]), "a receptive field")
    return act, x, layout


def _boxes(act, x, layout, positions, input_shape, keep: bool = False) -> list[Box]:
    """Return the Boxes of ``positions`` from a :func:`_trace` (``keep``: the graph stays for more calls)."""
    n = len(positions)
    seeds = torch.zeros((n, 1) + tuple(layout.map_shape), dtype=act.dtype)
    for i, (row, col) in enumerate(positions):
        seeds[i, 0, :, row, col] = 1.0
    seeds = layout.unmaps(seeds.flatten(0, 1)).unflatten(0, (n, 1))  # a token or channels-last layer's own layout
    (grads,) = torch.autograd.grad(act, x, grad_outputs=seeds, is_grads_batched=True, retain_graph=keep)
    boxes = []
    height, width = input_shape[2:]
    for g in grads[:, 0].abs().sum(1):
        rows = torch.nonzero(g.sum(1) > 0).flatten()
        cols = torch.nonzero(g.sum(0) > 0).flatten()
        if len(rows) == 0:  # the stand-ins cancelled out (an op they do not cover): claim the whole image
            boxes.append(Box(0, 0, height, width))
            continue
        boxes.append(Box(int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1))
    return boxes


class FieldTable:
    """The receptive fields of one layer's positions, traced on demand and kept: ``box((row, col))``.

    A stack of convolutions and pools sees a product of input rows and columns: the rows a position sees
    depend on its row only, the columns on its column only. Once that is checked on this network (the first
    time two positions differ in both row and column, the position with the one's row and the other's column
    is traced with them and compared with the product), a position whose row and column have both been seen
    is answered without a trace; where the check fails (an op that mixes rows and columns) each position is
    traced, as :func:`receptive_fields` does. Playback's projection needs the field of a strongest activation
    that moves with the picture: one trace (about 0.1 s on EfficientNet-Lite0) for each new position before,
    for each new row or column now.
    """

    def __init__(self, net: nn.Module, input_shape: tuple[int, ...], layer: str) -> None:
        self.net, self.input_shape, self.layer = net, tuple(input_shape), layer
        self.separable: bool | None = None  # None: not checked yet
        self._known: dict[tuple[int, int], Box] = {}
        self._rows: dict[int, tuple[int, int]] = {}
        self._cols: dict[int, tuple[int, int]] = {}

    def _product(self, row: int, col: int) -> Box:
        (top, bottom), (left, right) = self._rows[row], self._cols[col]
        return Box(top, left, bottom, right)

    def box(self, position: tuple[int, int]) -> Box:
        """Return the input-pixel Box that the layer's output at ``position`` (row, col) depends on."""
        row, col = int(position[0]), int(position[1])
        if (row, col) in self._known:
            return self._known[(row, col)]
        if self.separable and row in self._rows and col in self._cols:
            return self._product(row, col)
        wanted = [(row, col)]
        other = next(((r, c) for r, c in self._known if r != row and c != col), None) \
            if self.separable is None else None
        if other is not None:
            wanted.append((row, other[1]))  # this row, a column seen: the product's check
        if len(self._known) > 4096:
            self._known = {}
        for p, b in zip(wanted, receptive_fields(self.net, self.input_shape, self.layer, wanted)):
            self._known[p] = b
            self._rows.setdefault(p[0], (b.top, b.bottom))
            self._cols.setdefault(p[1], (b.left, b.right))
        if other is not None:
            checked = self._known[(row, other[1])]
            self.separable = checked == self._product(row, other[1]) and \
                (checked.top, checked.bottom) == (self._known[(row, col)].top, self._known[(row, col)].bottom) and \
                (checked.left, checked.right) == (self._known[other].left, self._known[other].right)
        return self._known[(row, col)]


def receptive_field(net: nn.Module, input_shape: tuple[int, ...], layer: str, position: tuple[int, int]) -> Box:
    """Return the input-pixel Box that ``layer``'s output at ``position`` (row, col) depends on."""
    return receptive_fields(net, input_shape, layer, [position])[0]


class _Stateless:
    """Calls ``net`` with other parameters and buffers, leaving the module itself untouched."""

    def __init__(self, net: nn.Module, state: dict) -> None:
        self.net, self.state = net, state

    def __call__(self, x):
        return torch.func.functional_call(self.net, self.state, (x,))
