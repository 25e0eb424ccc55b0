"""Faults of bol.com that tests of the process-status round arrange in the emulator."""

from __future__ import annotations

from bot.sandbox.base import RecordedRequest, Response
from bot.sandbox.bol import BolEmulator

BAD_REQUEST = {"type": "https://api.bol.com/problems", "title": "Bad Request", "status": 400}


def refuse_second_bulk_call(bol: BolEmulator) -> None:
    """The next round's second bulk call (``POST /shared/process-status``) is answered 400: the round
    fails after its first chunk was answered, with the next call already asked."""
    bulk_calls = [0]

    def second_bulk_call(request: RecordedRequest) -> bool:
        if request.method == "POST" and request.path.endswith("/shared/process-status"):
            bulk_calls[0] += 1
            return bulk_calls[0] == 2
        return False

    bol.fail_next(1, Response(status=400, body=BAD_REQUEST), when=second_bulk_call)
