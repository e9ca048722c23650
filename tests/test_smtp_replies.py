"""How the relay's replies are read: a refusal of the message itself is final; a refusal that is the relay's state
(an outage, its configuration, its policy) is retried, so that fixing the relay lets every alert out."""

import aiosmtplib
import pytest

from notifications.transport import classify

REFUSED = aiosmtplib.SMTPRecipientRefused


@pytest.mark.parametrize(("error", "final"), [
    (aiosmtplib.SMTPRecipientsRefused([REFUSED(550, "5.1.1 Mailbox unknown", "rssi@relay-ent.example.org")]), True),
    (aiosmtplib.SMTPDataError(552, "5.3.4 Message size exceeds fixed limit"), True),
    (aiosmtplib.SMTPSenderRefused(552, "5.3.4 Message too large", "incidents-ent@example.org"), True),
    (aiosmtplib.SMTPDataError(451, "4.3.0 Try again later"), False),
    (aiosmtplib.SMTPRecipientsRefused([REFUSED(450, "4.2.0 Mailbox busy", "rssi@example.org")]), False),
    (aiosmtplib.SMTPRecipientsRefused([REFUSED(554, "5.7.1 Relay access denied", "rssi@example.org")]), False),
    (aiosmtplib.SMTPRecipientsRefused([REFUSED(550, "Relaying denied", "rssi@example.org")]), False),
    (aiosmtplib.SMTPSenderRefused(530, "5.7.0 Authentication required", "incidents-ent@example.org"), False),
    (aiosmtplib.SMTPSenderRefused(553, "Sender address rejected", "incidents-ent@example.org"), False),
    (aiosmtplib.SMTPServerDisconnected("Connection lost"), False),
    (ConnectionRefusedError(111, "Connection refused"), False),
])
def test_a_reply_is_final_only_when_it_refuses_the_message_itself(error, final):
    assert classify(error).permanent is final
