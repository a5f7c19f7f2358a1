"""Money over many runs: reports, repricing, pruning and estimates (SPEC §9).

Each module has one job and is shared by every face (the CLI's ``costs`` and
``estimate`` commands, the Runs & Costs page, the notebook):

- :mod:`~agents_core.costs.periods`: ``--period`` / ``--since`` / ``--until`` to a UTC time window;
- :mod:`~agents_core.costs.report`: node-level cost rows from the run store and their aggregation;
- :mod:`~agents_core.costs.reprice`: what recorded runs would cost at today's prices;
- :mod:`~agents_core.costs.prune`: deleting old runs (retention);
- :mod:`~agents_core.costs.estimate`: a cost range before a run.

Importing this package loads nothing heavy (pandas only when a DataFrame is asked for).
"""

from __future__ import annotations
