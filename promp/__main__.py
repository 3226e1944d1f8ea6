"""``python -m promp`` (and the ``promp`` script) run the command line.

SIGINT/SIGTERM handling is installed first, before the command-line module and its imports load
(``promp.interrupts``), so a signal at any moment from launch gives exit code 130/143 and one line.
"""

from .interrupts import exit_on_signal


def run() -> None:
    """Entry point of the ``promp`` command: signal handling, then ``promp.cli.main``."""
    exit_on_signal()
    from .cli import main

    main()


if __name__ == "__main__":
    run()
