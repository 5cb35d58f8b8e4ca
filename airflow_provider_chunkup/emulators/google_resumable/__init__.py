"""Google's resumable upload protocol, shared by the YouTube and GCS front doors of the emulator.

- ``sessions``: the session URI (chunks, 308 and ``Range``, status queries, completion, 404/410/499).
- ``auth``: Google OAuth 2.0 stand-in (``POST /token``) and Bearer checks with scopes.
- ``errors``: Google's JSON error shape.
- ``config``: the session settings both sections share.
"""

from .config import ALIGN, ResumableConfig
from .errors import GoogleError
from .sessions import ResumableSession, ResumableSessions, SessionGone

__all__ = ["ALIGN", "GoogleError", "ResumableConfig", "ResumableSession", "ResumableSessions", "SessionGone"]
