"""The ``Content-Range`` + ``upload_id`` emulator: SelfCommunity's Media API on django-chunked-upload."""
