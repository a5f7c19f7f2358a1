"""A separate process that owns one run: ``python -m tests.runs.owner_process STORE``.

It starts THREE_STEPS with a scripted model whose second node takes a minute,
prints the run id, and waits for the run. The tests kill it (-9) or cancel the
run from their own process.
"""

from __future__ import annotations

import sys

from agents_core.llm.registry import ProviderInfo, register_provider
from agents_core.runs.service import RunService
from agents_core.runs.store import SqliteRunStore
from tests.fakes import Script
from tests.runs.conftest import AsyncScriptedChatModel, Slow
from tests.samples import THREE_STEPS


def main(store_path: str) -> None:
    script = Script({"second": [Slow(60)]})
    register_provider(
        ProviderInfo(
            "scripted", "scripted", default_model="scripted-1", factory=lambda s: AsyncScriptedChatModel(script=script)
        )
    )
    service = RunService(SqliteRunStore(store_path))
    handle = service.start(THREE_STEPS, {"topic": "cats"})
    print(handle.run_id, flush=True)
    result = handle.wait(timeout=120)
    print(result.status, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
