"""The library's log: its level, and where its records go.

By default libcano writes records at WARN and above to stderr (``[cano] [warning] ...``), so a
healthy program prints nothing. To route them into Python's :mod:`logging`::

    cano.log.route_to_logging()            # records go to logging.getLogger("cano")
    cano.log.set_level(cano.LogLevel.DEBUG)

or install any handler ``fn(level: LogLevel, message: str)`` with :func:`set_handler`.

Threads: a handler is called on whichever thread logs (the loop thread, a worker, or a thread
calling into the library), one record at a time; it runs with the GIL held. Exceptions it
raises are swallowed (a log handler has no caller to report to). The library keeps the handler
alive until it is replaced; at interpreter exit the stderr sink is restored.
"""

from __future__ import annotations

import enum
import logging
from typing import Callable, Optional, Union

from . import _callbacks, _errors
from . import _capi as C


class LogLevel(enum.IntEnum):
    """cano_log_level."""

    TRACE = C.CANO_LOG_TRACE
    DEBUG = C.CANO_LOG_DEBUG
    INFO = C.CANO_LOG_INFO
    WARN = C.CANO_LOG_WARN
    ERROR = C.CANO_LOG_ERROR
    CRITICAL = C.CANO_LOG_CRITICAL
    OFF = C.CANO_LOG_OFF

    @property
    def logging_level(self) -> int:
        """The matching :mod:`logging` level (TRACE maps to 5, below DEBUG)."""
        return _TO_LOGGING[self]


_TO_LOGGING = {
    LogLevel.TRACE: 5,
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.INFO: logging.INFO,
    LogLevel.WARN: logging.WARNING,
    LogLevel.ERROR: logging.ERROR,
    LogLevel.CRITICAL: logging.CRITICAL,
    LogLevel.OFF: logging.CRITICAL + 10,
}

Handler = Callable[[LogLevel, str], object]


def set_level(level: Union[LogLevel, str, int]) -> None:
    """Sets the minimum level the library logs. Accepts a LogLevel, its name ("debug",
    "warning" works too) or its int value; raises InvalidArgumentError for a value outside
    TRACE..OFF. Any thread."""
    if isinstance(level, str):
        name = level.upper()
        name = {"WARNING": "WARN", "FATAL": "CRITICAL"}.get(name, name)
        try:
            level = LogLevel[name]
        except KeyError:
            raise ValueError(f"unknown log level {level!r}") from None
    status = C.cano_log_set_level(int(level))
    if status < 0:
        raise _errors.error_for(status, f"log level {int(level)} is outside TRACE..OFF")


def get_level() -> LogLevel:
    """The minimum level the library logs."""
    return LogLevel(C.cano_log_get_level())


def _record(level: int, message: Optional[bytes], user_data: int) -> None:
    _callbacks.pin_thread()
    try:
        handler = _callbacks.REGISTRY.get(user_data)
        handler(LogLevel(level), (message or b"").decode("utf-8", "replace"))
    except BaseException:  # noqa: B902 - a log handler must never unwind into C
        pass


RECORD = C.cano_log_fn(_record)
_NO_RECORD = C.cano_log_fn()  # NULL: restores the stderr sink
_NO_DESTROY = C.cano_destroy_fn()

_current: Optional[int] = None


def set_handler(handler: Union[Handler, logging.Logger, None]) -> None:
    """Routes every record to ``handler(level, message)`` instead of stderr; a
    :class:`logging.Logger` receives them as log records at the matching level (see
    :func:`route_to_logging`); None restores the stderr sink. Any thread."""
    global _current
    if handler is None:
        status = C.cano_log_set_handler(_NO_RECORD, None, _NO_DESTROY)
        _current = None
    else:
        if isinstance(handler, logging.Logger):
            handler = _LoggingHandler(handler)
        if not callable(handler):
            raise TypeError("a log handler is a callable fn(level, message) or a Logger")
        token = _callbacks.REGISTRY.add(handler)
        status = C.cano_log_set_handler(RECORD, token, _callbacks.DESTROY)
        if status < 0:
            _callbacks.REGISTRY.pop(token)
        else:
            _current = token
    if status < 0:
        raise _errors.error_for(status, "cano_log_set_handler failed")


def route_to_logging(logger: Union[str, logging.Logger] = "cano") -> logging.Logger:
    """Sends the library's records to a :mod:`logging` logger (by default ``"cano"``);
    returns the logger."""
    if isinstance(logger, str):
        logger = logging.getLogger(logger)
    set_handler(logger)
    return logger


def reset_handler() -> None:
    """Restores the default stderr sink."""
    set_handler(None)


class _LoggingHandler:
    """Forwards records to a logging.Logger."""

    __slots__ = ("logger",)

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def __call__(self, level: LogLevel, message: str) -> None:
        python_level = _TO_LOGGING[level]
        if self.logger.isEnabledFor(python_level):
            self.logger.log(python_level, "%s", message)


def _reset_at_exit() -> None:
    if _current is not None:
        C.cano_log_set_handler(_NO_RECORD, None, _NO_DESTROY)
