"""Mail as mail clients read it: every address exactly as configured (names with commas and parentheses included),
answers going to the party that declared, and the mails of one incident threaded together."""

from settings.parties import load_parties
from tests.conftest import ACADEMY_ALERTS, REFERENT
from tests.walkers import declared


def addresses(mail, header):
    return [(address.display_name, address.addr_spec) for address in mail.message[header].addresses]


def test_every_address_reads_back_as_configured_and_answers_go_to_the_declaring_party(cli, smtp, tmp_path):
    ref = declared(cli, tmp_path, at="2026-11-28T10:00:00+01:00")["ref"]
    parties = load_parties()
    configured = {str(c.email): c.name for c in parties.academy.alert_contacts}
    assert any("," in name for name in configured.values()) and any("(" in name for name in configured.values())
    commune = [(c.name, str(c.email)) for c in parties.municipality("54999").referent_contacts]
    for address in ACADEMY_ALERTS:
        [mail] = smtp.to(address)
        # mail.message is the wire's bytes parsed by the standard library (default policy), as a client would
        assert addresses(mail, "To") == [(configured[address], address)]
        assert addresses(mail, "Reply-To") == commune  # the commune declared: answers go to its referents
        assert addresses(mail, "From")[0][1] == str(parties.academy.mail_from)
    threads = {str(mail.message["References"]) for mail in smtp.received}
    assert len(threads) == 1 and ref not in threads.pop()  # one thread, named without the reference's text
    [receipt] = smtp.to(REFERENT)
    assert receipt.message["In-Reply-To"] == smtp.to(ACADEMY_ALERTS[0])[0].message["References"]
