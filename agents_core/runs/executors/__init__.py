"""Where a run's task executes: in this process (:mod:`.inprocess`), or on a worker (a later issue)."""
