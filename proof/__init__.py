"""Proof that holds against whoever runs the server (issue 14): an RFC 9162 Merkle tree over the timeline, signed
checkpoints in the C2SP signed-note format, inclusion and consistency proofs, and their offline verification.

Pure building blocks: no database, no orchestrator. `merkle` hashes and proves, `tree` keeps a growing log's
subtree hashes, `note` and `checkpoint` sign and verify tree heads, `keys` finds or creates the signing key,
`offline` builds and checks the proof files an auditor verifies with the public key alone."""
