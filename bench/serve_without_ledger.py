"""Bench only: gesher's app served exactly as `gesher serve --workers 1` serves it (uvicorn, httptools,
uvloop), optionally with disclosures NOT recorded: the counterfactual against which
`bench.ledger_serving_bench` measures what the ledger costs. The product has no such switch (every
response with data is recorded, fail closed); this module replaces the recording on one Node object in
this process and is never imported by gesher.

python -m bench.serve_without_ledger PORT [--no-ledger]   (GESHER_* settings from the environment)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import uvicorn

from gesher.api.app import create_app
from gesher.exchange.node import Node
from gesher.ledger.entries import Served
from gesher.ledger_service.ledger import Disclosed
from gesher.settings import Settings


def _not_built(*args: object, **kwargs: object) -> tuple[None, bytes]:
    return None, b""


async def _not_appended(entry: object, encoded: bytes) -> Disclosed:
    return Disclosed(0)


def _not_recorded(
    partner: str, endpoint: str, policy_version: int, served: Sequence[Served], actor: str = ""
) -> Disclosed:
    return Disclosed(0)


def main(port: int, ledger: bool) -> None:
    settings = Settings()
    node = Node.open(settings)
    if not ledger:
        node.ledger.disclose = _not_recorded  # type: ignore[method-assign]
        node.ledger.disclosure = _not_built  # type: ignore[method-assign,assignment]
        node.ledger.disclose_async = _not_appended  # type: ignore[method-assign,assignment]
    app = create_app(settings, node)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        http="httptools",
        loop="uvloop",
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), "--no-ledger" not in sys.argv[2:])
