"""One round's context, shared by its phases, and what the phases say while they run.

    ctx = RoundContext(run, k)
    started = ctx.begin("train", "round 2: training 3 epochs")     # status + a log line
    report = ctx.progress("train", epoch=1); report(done, total)    # progress events, throttled
    ctx.end("train", "round 2: trained 3 epochs in 41 s, ...")       # a log line
"""
from __future__ import annotations

import time
from dataclasses import dataclass

# At most one progress event per phase (or epoch) every this many seconds, plus the last.
PROGRESS_INTERVAL_S = 2.0


@dataclass
class RoundContext:
    """Round ``k`` of ``run`` (run_setup.Run). model: the network the phases after training
    see (shrunk, eval mode; the uploaded model for an uploaded run); mask: the round's mask
    (None for an uploaded model)."""
    run: object
    k: int
    model: object = None
    mask: dict | None = None

    @property
    def config(self) -> dict:
        return self.run.config

    @property
    def settings(self):
        return self.run.settings

    @property
    def paths(self):
        return self.run.paths

    @property
    def device(self):
        return self.run.device

    @property
    def emit(self):
        return self.run.emit

    def begin(self, phase: str, message: str | None = None, status: str | None = None) -> float:
        """Say that ``phase`` starts (status for failure reports, a log line); returns the start time."""
        self.run.set_status(self.k, status or phase)
        if message:
            self.log(message, phase)
        return time.perf_counter()

    def end(self, phase: str, message: str) -> None:
        self.log(message, phase)

    def log(self, message: str, phase: str | None = None, level: str = "info") -> None:
        self.run.log(message, self.k, phase, level)

    def progress(self, phase: str, epoch: int | None = None) -> "Progress":
        return Progress(self.emit, self.k, phase, epoch)


class Progress:
    """progress events of one phase (or one epoch) of a round: report(done, total).

    Writes one when ``PROGRESS_INTERVAL_S`` has passed since the last one (or since the
    start), and then the last one (done == total) as well, so that a slow phase shows
    about one event every two seconds and ends on its final count. A phase (or epoch)
    quicker than the interval writes none: its own end event says as much.
    """

    def __init__(self, emit, k: int, phase: str, epoch: int | None = None, clock=time.monotonic):
        self.emit, self.k, self.phase, self.epoch, self.clock = emit, k, phase, epoch, clock
        self.interval = PROGRESS_INTERVAL_S
        self.started = self.last = clock()
        self.sent = 0

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if now - self.last < self.interval and not (done >= total and self.sent):
            return
        self.last, self.sent = now, self.sent + 1
        self.emit("progress", round=self.k, phase=self.phase, epoch=self.epoch, done=int(done), total=int(total),
                  seconds=max(0.0, now - self.started))


def seconds_text(seconds: float) -> str:
    """'41 s', '3.2 min', '1.5 h': a duration for log lines."""
    if seconds < 100:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if seconds < 6000:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def pct_text(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"
