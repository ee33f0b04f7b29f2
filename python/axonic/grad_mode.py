"""Whether operations record the graph for backward: ``no_grad`` turns it off."""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    # A class attribute, so a thread that never set the mode reads True without the
    # failed instance lookup getattr(local, name, default) pays (0.3 us on every op).
    enabled = True


_state = _State()


def is_grad_enabled() -> bool:
    return _state.enabled


class _GradMode:
    """Context manager and decorator that sets grad mode and restores it on exit."""

    enabled: bool

    def __enter__(self) -> None:
        self._previous = is_grad_enabled()
        _state.enabled = self.enabled

    def __exit__(self, *exc) -> None:
        _state.enabled = self._previous

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Disables graph recording: ``with axonic.no_grad(): ...`` or ``@axonic.no_grad()``."""

    enabled = False


class enable_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Re-enables graph recording inside a ``no_grad`` block."""

    enabled = True
