"""The upload contract: the checks every upload API passes, each run over every API profile against its emulator.

An API keeps the contract when, through its hook (``init``/``append``/``finalize``/``status``/``upload``/
``abort`` and their async twins):

- **capabilities**: the hook claims what the profile declares (parallel segments, processing, resume from the
  server, abort), so every other check follows the truth;
- **byte-exact**: one chunk, several chunks with a 1-byte last one, and exactly N chunks arrive as the file's
  bytes, one request per segment, in one remote upload; the result carries the file's size and sha256 (and
  md5 where the API needs it) and is JSON-safe (it is the XCom);
- **steps**: init, append and finalize as separate calls (the session passing as JSON between them, as XCom
  does; sync or async) store the same bytes and give the same result as the one-call upload, the remote id
  known from init on;
- **resume**: after a kill, the checkpoint continues the same remote upload and only the segments it did not
  record are sent; a finalized checkpoint answers without a request. Without a checkpoint, an API that
  reports what it holds is asked and only the rest is sent; one that cannot sends every segment the session
  does not record again, and the upload is still byte-exact;
- **abort**: ``abort`` (and an upload that fails) leaves no remote upload where the API can abort; where it
  cannot, the check asserts that the upload is left for the platform to expire and that chunkup says so;
- **faults**: about 10% of chunk requests failing (the emulator's ``chunks:0.1`` preset, seed 7) still give a
  byte-exact upload and exactly one remote media;
- **bad input** is refused before any request: a missing source, a connection that is not defined or of
  another type, a chunk size outside the API's limits, an empty file;
- **secrets**: no credential in a result, a session, a checkpoint, the repr of the hook or protocol, chunkup's
  log lines, or the message of an authentication failure;
- **status**: a finished upload's processing status is reachable and terminal once processing is done.

The profiles (what the suite knows of each API, and how to add one) are in ``profiles.py``; the checks in
``test_contract.py``. ``pytest tests/contract -k x_v2`` runs every check on one API, ``-k resume`` one check on
every API.
"""
