"""Playback's frame dropping by priority: which playing frames carry the grid and the projection.

While a video plays, every frame delivered is sent for analysis and the runner keeps only the newest waiting
one, so when frames arrive faster than they are analysed some are dropped whole. Before that costs the class
table its updates, the cheapest parts to skip, the layer's grid and the channel's deconvnet projection (the
projection's backward pass, its receptive field and tiles, and a large layer's maps), go to every other
analysed frame: the frames between carry the probabilities (and the occluded square) only, a forward pass.

:class:`PlaybackPlan` decides it from measured times, no benchmark: the interval between delivered frames
(the median of the last few) against the answer time of the frames that carried the panes (the median of
the worker's compute time for the last few of them, so that one slow answer, such as the first frame at a
new receptive field, moves neither way). A full answer slower than the interval: every other frame; back to
every frame once it costs no more than ``back`` of the interval (the frames in between keep the median up to
date, since every other frame still carries the panes).

"Every other analysed frame" holds even though the runner coalesces: a frame's request is stamped when it is
sent, as the opposite of the request the worker is computing then (the oldest one sent after the newest
answer; without one, the newest answer), and every request sent while one is computing gets the same stamp,
so whichever of them survives the coalescing is the opposite of the one before it.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from typing import Callable


class PlaybackPlan:
    """Decides, frame by frame, whether a playing frame carries the grid and the projection (module docstring).

    ``clock()`` returns seconds (tests pass a fake one); ``window``: how many delivery intervals the frame
    interval is the median of; ``answers``: how many answers of each kind their time is the median of;
    ``back``: the share of the interval a full answer must fit in for every frame to carry the panes again.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, window: int = 8, answers: int = 5,
                 back: float = 0.8) -> None:
        self.clock, self.window, self.answers, self.back = clock, window, answers, back
        self.reset()

    def reset(self) -> None:
        """Forget the intervals, costs and requests (playback starts again: the first frames carry everything)."""
        self.every_other = False
        self._full: deque[float] = deque(maxlen=self.answers)  # compute times of the last frames with the panes
        self._light: deque[float] = deque(maxlen=self.answers)  # the same for frames with the probabilities only
        self._arrivals: deque[float] = deque(maxlen=self.window + 1)
        self._sent: deque[tuple[int, bool]] = deque(maxlen=64)  # (generation, panes) sent, not yet answered
        self._answered: tuple[int, bool] | None = None  # the newest answer's (generation, panes)

    @property
    def interval_s(self) -> float | None:
        """Return the interval between delivered frames: the median of the last ``window`` (None before two)."""
        times = list(self._arrivals)
        if len(times) < 2:
            return None
        return statistics.median(b - a for a, b in zip(times, times[1:]))

    @property
    def full_s(self) -> float | None:
        """Return the median compute time of the last ``answers`` frames that carried the panes (None before one)."""
        return statistics.median(self._full) if self._full else None

    @property
    def light_s(self) -> float | None:
        """Return the same for the frames that carried the probabilities only (None before one)."""
        return statistics.median(self._light) if self._light else None

    def next_frame(self) -> bool:
        """Record that a frame was delivered now; return whether its request carries the grid and projection."""
        self._arrivals.append(self.clock())
        self._decide()
        if not self.every_other:
            return True
        before = self._sent[0] if self._sent else self._answered  # what the worker computes now, or last did
        return True if before is None else not before[1]

    def sent(self, generation: int, panes: bool) -> None:
        """Record the request sent for the frame (its generation, and what :meth:`next_frame` returned)."""
        self._sent.append((generation, panes))

    def answered(self, generation: int, panes: bool, seconds: float) -> None:
        """Record a frame's answer: its generation, whether it carried the panes and its compute time."""
        while self._sent and self._sent[0][0] <= generation:
            self._sent.popleft()  # answered, or coalesced away behind this answer
        self._answered = (generation, panes)
        (self._full if panes else self._light).append(seconds)
        self._decide()

    def _decide(self) -> None:
        interval, full = self.interval_s, self.full_s
        if interval is None or full is None:
            return
        if not self.every_other and full > interval:
            self.every_other = True
        elif self.every_other and full <= self.back * interval:
            self.every_other = False

    def skipping(self, grid: bool, projection: bool) -> str:
        """Return what goes to every other frame, in words ("grid and projection every other frame"), for a
        playback with a ``grid`` (a layer chosen) and a ``projection`` (a channel chosen); "" when none does."""
        parts = [name for name, on in (("grid", grid), ("projection", projection)) if on]
        if not self.every_other or not parts:
            return ""
        return f"{' and '.join(parts)} every other frame"


def rate_text(analysed: float, delivered: float, dropped: int, total: int, skipping: str = "") -> str:
    """Return the status line while playing: the analysed and delivered frame rates, the frames dropped whole
    and, when the plan skips some, what goes to every other frame."""
    text = f"analysing {analysed:.1f} of {delivered:.1f} frames/s ({dropped} of {total} dropped)"
    return f"{text}; {skipping}" if skipping else text
