"""``python -m promp`` runs the command line."""

from .cli import main

main()
