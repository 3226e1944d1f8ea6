"""SIGINT/SIGTERM from the moment ``promp`` starts until the training loop takes over.

``python -m promp`` (and the ``promp`` script) install ``exit_on_signal`` before anything heavy is
imported. Until the trainer installs its own handler (which stops between two file writes and
reports what is checkpointed), a signal prints one true line and ends the process at once with
``128 + signum`` (130 for SIGINT, 143 for SIGTERM). It does not raise ``KeyboardInterrupt``: an
exception raised at an arbitrary moment can land inside a C callback (ctypes, XLA), where it is
printed as a traceback and then swallowed. Files are written atomically (temporary file +
``os.replace``), and the lock of a run directory dies with the process, so exiting at any moment
leaves no half-written file behind; ``set_note`` keeps the line true as a command progresses.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
DEFAULT_NOTE = "stopped before the command completed; no file is half-written"
_note = DEFAULT_NOTE
_installed = False


def set_note(note: str | None) -> None:
    """What the line printed on a signal says about the saved state (``None``: the default)."""
    global _note
    _note = note or DEFAULT_NOTE


def _exit_handler(signum: int, frame: Any) -> None:
    word = "interrupted" if signum == signal.SIGINT else "terminated"
    try:
        sys.stdout.flush()
    except Exception:  # noqa: BLE001 - a closed or broken stdout must not stop the exit
        pass
    os.write(2, f"\npromp: {word}: {_note}\n".encode())
    os._exit(128 + signum)


def exit_on_signal() -> None:
    """Make SIGINT and SIGTERM end the process at once with one line and ``128 + signum``.

    Only for the command-line entry point (it would end an interactive session that imports
    promp); does nothing outside the main thread. An inherited "ignore SIGINT" (a job started with
    ``&`` by a script) is replaced too, as the training loop's handler always did.
    """
    global _installed
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in STOP_SIGNALS:
        signal.signal(sig, _exit_handler)
    _installed = True


def exit_handlers_installed() -> bool:
    """Whether ``exit_on_signal`` is in effect in this process (the CLI entry point called it)."""
    return _installed
