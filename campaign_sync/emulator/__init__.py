"""A faithful local emulator of the Kore.ai Campaign Management REST API (v1 and v2).

``create_app()`` builds the WSGI application (``app.store`` gives tests direct access);
``EmulatorServer`` serves it on a loopback port from a background thread; ``server.serve()`` is
the blocking ``campaign-sync emulator`` command. See ``docs/emulator.md``.
"""

from .app import ABORT_KEY, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EmulatorApp, Settings, create_app
from .control import SeedError
from .server import EmulatorServer
from .store import DEFAULT_ACCOUNT_ID
from .wire import ConnectionDropped

__all__ = [
    "ABORT_KEY",
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "ConnectionDropped",
    "EmulatorApp",
    "EmulatorServer",
    "SeedError",
    "Settings",
    "create_app",
]
