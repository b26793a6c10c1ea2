"""What a running job reports to whoever started it: progress, cancel, messages; QGIS-free."""

from dataclasses import dataclass
from typing import Callable

from .errors import CancelledError


def _ignore(_value) -> None:
    """Drop a progress value or message nobody listens to."""


def _never() -> bool:
    """A job nobody can cancel."""
    return False


@dataclass(frozen=True)
class RunContext:
    """The four channels between a core entry point and its caller.

    The algorithm base builds one from QgsProcessingFeedback; scripts, training and tests pass
    their own callables or none (then nothing is reported and nothing cancels).

    Attributes:
        progress: called with percent 0..100 as work completes.
        is_canceled: polled between units of work; True stops the job with CancelledError.
        log: a line for the user to read (what ran, on what, fallbacks taken).
        warn: a problem the user should notice (defaults to log when not given).
    """

    progress: Callable[[float], None] = _ignore
    is_canceled: Callable[[], bool] = _never
    log: Callable[[str], None] = _ignore
    warn: Callable[[str], None] = None

    def __post_init__(self):
        if self.warn is None:
            object.__setattr__(self, 'warn', self.log)

    def raise_if_canceled(self, what: str = 'Cancelled') -> None:
        """Raise CancelledError(what) when the caller asked to stop."""
        if self.is_canceled():
            raise CancelledError(what)

    def within(self, start: float, end: float) -> 'RunContext':
        """The same context with progress 0..100 mapped onto start..end (one stage of a job)."""
        progress = self.progress
        return RunContext(lambda percent: progress(start + percent * (end - start) / 100),
                          self.is_canceled, self.log, self.warn)


def context_or_silent(run_context: 'RunContext | None') -> RunContext:
    """The context given, or one that reports nowhere and never cancels."""
    return run_context if run_context is not None else RunContext()
