"""Local emulators of media upload APIs (X v2 and v1.1), served on loopback for tests and demos.

Start one in-process with ``EmulatorServer`` or as a process with ``chunkup-emulator``; steer it
through ``EmulatorConfig`` or the ``/_emulator/`` control endpoints. Nothing here imports Airflow.
"""

from .config import EmulatorConfig, XEmulatorConfig
from .server import EmulatorServer

__all__ = ["EmulatorConfig", "EmulatorServer", "XEmulatorConfig"]
