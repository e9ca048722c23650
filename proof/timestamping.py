"""The hook for an RFC 3161 timestamping authority (TSA) countersigning checkpoints, when an académie has one.

Only the interface: no network call here. The integrator passes an object that asks its TSA for a token over the
imprint and stores the token (DER) beside the checkpoint it dates; verifying a token (the TSA's certificate chain)
is left to standard tools such as `openssl ts -verify`.
"""

import hashlib
from typing import Protocol


class TimestampAuthority(Protocol):
    def timestamp(self, sha256_imprint: bytes) -> bytes:
        """The DER-encoded TimeStampToken for this SHA-256 message imprint (RFC 3161 §2.4)."""
        ...


def checkpoint_imprint(signed_note: str) -> bytes:
    """What the authority dates: the SHA-256 of the whole signed note, so that the token dates the signature
    as well as the tree head."""
    return hashlib.sha256(signed_note.encode("utf-8")).digest()


def countersign(signed_note: str, authority: TimestampAuthority) -> bytes:
    """The authority's token for this signed checkpoint."""
    return authority.timestamp(checkpoint_imprint(signed_note))
