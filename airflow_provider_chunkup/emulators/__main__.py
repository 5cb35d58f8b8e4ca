"""``python -m airflow_provider_chunkup.emulators``: same as ``chunkup-emulator``."""

import sys

from .cli import main

sys.exit(main())
