"""A generic tus 1.0.0 server (``TusEmulator``), built to carry tus-based platforms beside it.

- ``headers``: the protocol's headers and their parsing (metadata, checksum, concat).
- ``uploads``: ``TusUploadStore``, every upload and its bytes on the shared storage, whatever
  created it (``TusUpload.origin``, ``TusUpload.extra`` for a platform's own ids).
- ``server``: ``TusServer``, the protocol on one base path over that store.
- ``emulator``: the generic server on ``tus.path`` (default ``/files/``) and ``/_emulator/tus/...``.

Platforms built on tus mount the same pieces with an upload store of their own: Vimeo's upload links
(``emulators/vimeo/``: a ``TusServer(allow_creation=False)`` over uploads that ``POST /me/videos``
pre-creates) and Cloudflare Stream (``emulators/cloudflare_stream/``: ``TusServer.create`` with its own
``Location`` and ``stream-media-id``, and a ``chunk_rule``). ``TusUploadStore``'s hooks (``on_complete``,
``keep_broken_bodies``, ``chunk_rule``) carry what they do differently.
"""

from .config import TusEmulatorConfig
from .emulator import TusEmulator

__all__ = ["TusEmulator", "TusEmulatorConfig"]
