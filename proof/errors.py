"""The package's refusals. Each message is French and names what is wrong, for an auditor to read as is."""


class ProofError(Exception):
    """Something a proof, a checkpoint or a key does not hold; the message says what, in French."""


class MalformedCheckpoint(ProofError):
    """A checkpoint (signed note) whose text does not follow the format: nothing in it can be trusted."""


class UnknownKey(ProofError):
    """A checkpoint signed with a key other than the one the verifier holds."""


class BadSignature(ProofError):
    """A signature of the expected key that does not verify: the signed text was altered."""


class InvalidProof(ProofError):
    """An inclusion or consistency proof that does not lead to the signed root."""


class MalformedProofFile(ProofError):
    """A proof file that is not the documented JSON format."""


class SigningKeyError(ProofError):
    """A signing or public key that cannot be read or created."""
