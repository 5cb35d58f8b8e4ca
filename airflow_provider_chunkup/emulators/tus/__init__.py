"""A generic tus 1.0.0 server (``TusEmulator``), built to carry tus-based platforms beside it.

- ``headers``: the protocol's headers and their parsing (metadata, checksum, concat).
- ``uploads``: ``TusUploadStore``, every upload and its bytes on the shared storage, whatever
  created it (``TusUpload.origin``, ``TusUpload.extra`` for a platform's own ids).
- ``server``: ``TusServer``, the protocol on one base path over that store.
- ``emulator``: the generic server on ``tus.path`` (default ``/files/``) and ``/_emulator/tus/...``.

Next to come, beside the generic server and over the same store: ``vimeo.py`` (``POST /me/videos``
pre-creates an upload with ``store.create(..., origin="vimeo")`` and answers its ``upload_link``,
served by a ``TusServer(allow_creation=False)`` on Vimeo's own upload path), and ``cloudflare.py``
(tus creation on ``/client/v4/accounts/{id}/stream`` through ``TusServer.create(request,
extra_headers={"stream-media-id": ...})``, PATCH/HEAD on its own base path). Each would be an
``EmulatedApi`` of its own with its own config section, sharing the store held by ``TusEmulator``.
"""

from .config import TusEmulatorConfig
from .emulator import TusEmulator

__all__ = ["TusEmulator", "TusEmulatorConfig"]
