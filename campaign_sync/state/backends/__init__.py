"""State backends: where the bytes of a state are kept (see ``campaign_sync.state.backend``).

``open_backend`` turns an environment's ``state:`` setting into a backend: the file backend
(``file.py``, the default) or the PostgreSQL backend (``postgres.py``, needs the ``postgres``
extra: ``pip install 'campaign-sync[postgres]'``; imported only when used).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from campaign_sync.state.backend import StateBackend

if TYPE_CHECKING:
    from campaign_sync.manifests.config import StateBackendSpec
    from campaign_sync.redact import Redactor

__all__ = ["open_backend"]


def open_backend(
    spec: StateBackendSpec, env_name: str, environ: Mapping[str, str], redactor: Redactor
) -> StateBackend:
    """The backend ``spec`` names, for environment ``env_name``. Connects to nothing yet."""
    if spec.backend == "postgres":
        from campaign_sync.state.backends.postgres import PostgresBackend

        return PostgresBackend.from_environment(spec.dsn_env, spec.schema, env_name, environ, redactor)
    from campaign_sync.state.backends.file import FileBackend

    assert spec.path is not None
    return FileBackend(spec.path)
