"""The run store's backends, all on SQLAlchemy Core: one SQL class (:mod:`.sql`), and per dialect only
what differs (:mod:`.sqlite`: the file, its pragmas and ``AsyncSqliteSaver``; :mod:`.postgres`:
``AsyncPostgresSaver``). :func:`agents_core.runs.store.open_store` picks one from a path or a URL.
"""
