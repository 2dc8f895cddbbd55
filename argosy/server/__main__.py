"""``python -m argosy.server``: the same as ``argosy server``."""

from __future__ import annotations

from argosy.server.cli import main

if __name__ == "__main__":
    main()
