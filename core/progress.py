"""Progress for a log: one line at a time on stderr when it is not a terminal.

On a terminal, commands draw rich progress bars. Piped into a file or a CI log, bars
print nothing, and a three-minute stage looked like a hang. :class:`LineProgress` prints
instead, to the stream it is given (default stderr):

- each stage as it starts: ``[0:05] running the natural-hazards-2020 protocol``;
- a counter ``(label, done, total)`` at most once every ``interval`` seconds per label,
  and when it completes: ``[1:10] baselines: folds 3/10 (30%)``;
- while it is used as a context manager, a line every ``interval`` seconds in which
  nothing else was printed: ``[2:00] still working: <stage> (<label> 3/10)``.

``interval`` defaults to ``AFFREPRO_PROGRESS_SECONDS`` (10 s).
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Callable, TextIO

DEFAULT_INTERVAL = 10.0


def interval_from_env() -> float:
    try:
        return max(0.0, float(os.environ.get("AFFREPRO_PROGRESS_SECONDS", DEFAULT_INTERVAL)))
    except ValueError:
        return DEFAULT_INTERVAL


def elapsed(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour on)."""
    s = int(seconds)
    h, m = divmod(s // 60, 60)
    return f"{h}:{m:02d}:{s % 60:02d}" if h else f"{m}:{s % 60:02d}"


class LineProgress:
    """``stage(message)`` and ``(label, done, total[, rate])`` as lines on a stream."""

    def __init__(self, stream: TextIO | None = None, interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval_from_env() if interval is None else interval
        self.clock = clock
        self.t0 = clock()
        self.current_stage = ""
        self.counter: tuple[str, int, int | None] | None = None
        self._last_by_label: dict[str, float] = {}
        self._finished: set[str] = set()
        self._last_line = self.t0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _emit(self, text: str) -> None:
        with self._lock:
            now = self.clock()
            self._last_line = now
            try:
                self.stream.write(f"[{elapsed(now - self.t0)}] {text}\n")
                self.stream.flush()
            except (OSError, ValueError):  # a closed pipe: progress is not worth failing over
                pass

    def stage(self, message: str) -> None:
        self.current_stage = message
        self._emit(message)

    def __call__(self, label: str, done: int, total: int | None, rate: str = "") -> None:
        self.counter = (label, done, total)
        finished = total is not None and done >= total
        if not finished:
            self._finished.discard(label)
        elif label in self._finished:
            return  # its completed count is printed already
        now = self.clock()
        last = self._last_by_label.get(label)
        if not finished and last is not None and now - last < self.interval:
            return
        self._last_by_label[label] = now
        if finished:
            self._finished.add(label)
        self._emit(self._count(label, done, total) + (f", {rate}" if rate else ""))

    @staticmethod
    def _count(label: str, done: int, total: int | None) -> str:
        if not total:
            return f"{label} {done}"
        return f"{label} {done}/{total} ({100 * done // total}%)"

    def heartbeat(self) -> None:
        """One 'still working' line: the stage, and the last counter if it has not finished."""
        text = "still working" + (f": {self.current_stage}" if self.current_stage else "")
        if self.counter and (self.counter[2] is None or self.counter[1] < self.counter[2]):
            text += f" ({self._count(*self.counter)})"
        self._emit(text)

    def _beat(self) -> None:
        while not self._stop.wait(max(self.interval, 0.01) / 4):
            if self.clock() - self._last_line >= self.interval:
                self.heartbeat()

    def __enter__(self) -> LineProgress:
        if self.interval > 0:
            self._thread = threading.Thread(target=self._beat, name="affrepro-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)


def for_log(stream: TextIO | None = None) -> LineProgress | None:
    """A LineProgress when ``stream`` (default stderr) is not a terminal, else None (the
    command draws its bars)."""
    stream = stream if stream is not None else sys.stderr
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return None if tty else LineProgress(stream)


class CompileNotice:
    """Says "compiling kernels (first run only)" on ``stream`` the first time Numba compiles
    a function while it is active (a cold cache: the first run after installing, or after
    a Numba upgrade); a run served from Numba's cache says nothing. ``compiled`` tells the
    caller whether the timing it measured includes compiling."""

    MESSAGE = "compiling kernels (first run only; later runs load them from Numba's cache)"

    def __init__(self, stream: TextIO | None = None, say: Callable[[str], None] | None = None):
        """``say``: where the notice goes instead of ``stream`` (a command's stage printer,
        so it does not tear a progress bar)."""
        self.stream = stream if stream is not None else sys.stderr
        self.say = say
        self.compiled = False
        self._listener = None

    def _on_compile(self) -> None:
        if self.compiled:
            return
        self.compiled = True
        if self.say is not None:
            self.say(self.MESSAGE)
            return
        try:
            self.stream.write(self.MESSAGE + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def __enter__(self) -> CompileNotice:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> CompileNotice:
        """Listen from now on (``stop()`` ends it; or use it as a context manager)."""
        try:
            from numba.core import event
        except ImportError:  # no Numba: nothing compiles
            return self
        notice = self

        class _Listener(event.Listener):
            def on_start(self, ev) -> None:
                notice._on_compile()

            def on_end(self, ev) -> None:
                pass

        self._listener = _Listener()
        event.register("numba:compile", self._listener)
        return self

    def stop(self) -> None:
        if self._listener is not None:
            from numba.core import event

            event.unregister("numba:compile", self._listener)
            self._listener = None
