"""``python -m agents_core`` is the ``configurable-agents`` command."""

from agents_core.cli import main

if __name__ == "__main__":
    main()
