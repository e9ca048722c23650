"""The people told that a message is not getting through read why in French; the relay's English reply stays for the
administrator."""

import pytest

from rendering.reasons import delivery_reason


@pytest.mark.parametrize(("stored", "said"), [
    ("SMTPRecipientsRefused: [SMTPRecipientRefused(450, 'Mailbox busy, try again later', 'a@b.fr')]",
     "le serveur de messagerie refuse pour le moment l'adresse du destinataire (code 450)"),
    ("SMTPRecipientsRefused: [SMTPRecipientRefused(550, 'No such user', 'a@b.fr')]",
     "le serveur de messagerie refuse définitivement l'adresse du destinataire (code 550)"),
    ("SMTPDataError: (552, 'Message size exceeds fixed limit')",
     "le message est trop volumineux pour le serveur de messagerie (code 552)"),
    ("SMTPDataError: (554, 'Transaction failed')",
     "le serveur de messagerie refuse définitivement le message (code 554)"),
    ("ConnectionRefusedError: [Errno 111] Connection refused",
     "le relais de messagerie ne répond pas ou a coupé la connexion"),
    ("message trop volumineux (900 Ko, limite 500 Ko)", "message trop volumineux (900 Ko, limite 500 Ko)"),
    (None, "motif non précisé"),
])
def test_a_stored_error_is_said_in_french(stored: str | None, said: str) -> None:
    assert delivery_reason(stored) == said
