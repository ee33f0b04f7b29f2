"""Progress output of ``Trainer.fit``: a tqdm bar per epoch or one summary line per epoch.

verbose=0: nothing. verbose=1: a tqdm bar on stderr showing the running loss while the
epoch trains and every log when it ends, when stderr is a terminal; otherwise (logs, CI,
notebooks captured to a file) one summary line per epoch on stdout. verbose=2: one line
per epoch, always.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from .callbacks import Callback, Logs


def format_logs(logs: Logs) -> str:
    """ "loss: 0.1234 - accuracy: 0.9500 - ..." with "lr" last, in a compact form."""
    parts = [f"{key}: {value:.4g}" if key == "lr" else f"{key}: {value:.4f}"
             for key, value in sorted(logs.items(), key=lambda kv: kv[0] == "lr")
             if isinstance(value, (int, float))]
    return " - ".join(parts)


class ProgressBar(Callback):
    """Shows fit progress (see the module docstring). ``stream`` overrides where lines go
    (default stdout) and the bar goes (default stderr)."""

    def __init__(self, epochs: int, steps: int | None, verbose: int = 1,
                 stream: IO[str] | None = None):
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        self.epochs = epochs
        self.steps = steps
        self.verbose = verbose
        self.stream = stream
        self._bar: Any = None
        self._seen = 0
        self._loss_sum = 0.0
        self._start = 0.0

    def _use_bar(self) -> bool:
        if self.verbose != 1:
            return False
        stream = self.stream or sys.stderr
        return bool(getattr(stream, "isatty", lambda: False)())

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self._seen, self._loss_sum, self._start = 0, 0.0, time.perf_counter()
        if self.verbose and self._use_bar():
            from tqdm import tqdm

            self._bar = tqdm(total=self.steps, desc=f"Epoch {epoch + 1}/{self.epochs}",
                             unit="batch", file=self.stream or sys.stderr, leave=True,
                             dynamic_ncols=True)

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._bar is None:
            return
        logs = logs or {}
        size = int(logs.get("size", 1))
        self._seen += size
        self._loss_sum += float(logs.get("loss", 0.0)) * size
        self._bar.set_postfix_str(f"loss: {self._loss_sum / max(self._seen, 1):.4f}",
                                  refresh=False)
        self._bar.update(1)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        text = format_logs(logs or {})
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.close()
            self._bar = None
        elif self.verbose:
            seconds = time.perf_counter() - self._start
            print(f"Epoch {epoch + 1}/{self.epochs} - {text} - {seconds:.2f}s",
                  file=self.stream or sys.stdout, flush=True)

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._bar is not None:  # stopped mid-epoch
            self._bar.close()
            self._bar = None
