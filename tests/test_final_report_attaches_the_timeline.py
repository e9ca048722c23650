"""The final report is a summary both parties can read (what happened, scope, key dates, obligations, measures,
closing summary) with the whole timeline attached as a spreadsheet, not pasted in its body; the follow-up it
replaces, or a follow-up just sent, shows as done by that very mail, not as still running."""

import base64
import csv
import io

from tests.conftest import ACADEMY_ALERTS, MUNICIPALITY_REFERENT, TRIAGER
from tests.test_follow_up_and_closure import CLOSURE, FOLLOW_UP, watch, write
from tests.walkers import declared, obligation, shown

COLUMNS = ["N°", "Survenu le (heure de Paris)", "Enregistré le", "Acteur", "Partie", "Événement", "Description",
           "Signalement", "Empreinte (SHA-256)"]


def test_the_final_report_summarises_and_attaches_the_whole_timeline(cli, smtp, tmp_path):
    ref = declared(cli, tmp_path, at="2026-11-02T10:00:00+01:00", aware_at="2026-11-02T09:00:00+01:00",
                   occurred_at="2026-11-01T22:00:00+01:00", schools=["0549001A"])["ref"]
    watch(cli, "2026-11-02T10:00:00+01:00")
    assert cli("acknowledge", ref, "--by", TRIAGER, "--at", "2026-11-02T13:00:00+01:00").exit_code == 0
    followed = cli("follow-up", ref, "--file", write(tmp_path, "update.yaml", FOLLOW_UP),
                   "--by", MUNICIPALITY_REFERENT, "--at", "2026-11-06T09:00:00+01:00")
    assert followed.exit_code == 0, followed.output

    closed = cli("close", ref, "--file", write(tmp_path, "closure.yaml", CLOSURE), "--by", MUNICIPALITY_REFERENT,
                 "--at", "2026-11-07T09:00:00+01:00")

    assert closed.exit_code == 0, closed.output
    for address in [*ACADEMY_ALERTS, MUNICIPALITY_REFERENT]:
        [report] = smtp.to(address, "Rapport final")
        body = report.text.replace("\r\n", "\n")
        for expected in (
            "Ce qui s'est passé\n  Messagerie de l'ENT accessible sans authentification",
            "  Écoles : École élémentaire Jules-Ferry (0549001A)",
            "  - Survenue de l'incident : dimanche 1er novembre 2026 à 22h00 (heure de Paris)",
            "  - Alerte remise à l'autre partie : lundi 2 novembre 2026 à 10h00 (heure de Paris)",
            "  - Clôture : samedi 7 novembre 2026 à 09h00 (heure de Paris)",
            "point de suivi à l'autre partie (collectivité) : échéance vendredi 13 novembre 2026 à 09h00 (heure de "
            "Paris) — remplie dans le délai par le présent envoi",
            "Toutes les obligations ont été remplies dans les délais ou levées.",
            f"Synthèse :\n{CLOSURE['summary']}", f"Mesures prises :\n{CLOSURE['measures']}",
            f"chronologie-{ref}.csv",
        ):
            assert expected in body, expected
        assert "en cours" not in body
        # The checkpoint the pass signed, printed in the report and carried in its header (issue 14).
        assert "Preuve d'intégrité : au dernier point de contrôle signé (" in body
        note = base64.b64decode(str(report.message["X-Incidents-Checkpoint"])).decode("utf-8")
        assert note.strip() in body  # the signed note itself, to copy into a file and check later
        assert "Incident déclaré par la collectivité" not in body  # the timeline is attached, not pasted
        html = report.message.get_body(preferencelist=("html",))
        assert html is not None and "Incident déclaré par la collectivité" not in html.get_content()
        [attached] = list(report.message.iter_attachments())
        assert (attached.get_filename(), attached.get_content_type()) == (f"chronologie-{ref}.csv", "text/csv")
        table = attached.get_payload(decode=True).decode("utf-8")
        assert table.startswith("\ufeff")  # opens right in a spreadsheet in French settings
        rows = list(csv.DictReader(io.StringIO(table.removeprefix("\ufeff")), delimiter=";"))
        assert list(rows[0]) == COLUMNS
        assert rows[0]["Description"].startswith("Incident déclaré par la collectivité")
        assert any(row["Événement"] == "Point de suivi enregistré" for row in rows)
        assert [int(row["N°"]) for row in rows] == sorted(int(row["N°"]) for row in rows)


def test_a_follow_up_shows_itself_done_in_the_mail_that_carries_it(cli, smtp, tmp_path):
    ref = declared(cli, tmp_path, at="2026-11-02T10:00:00+01:00", aware_at="2026-11-02T09:00:00+01:00")["ref"]
    watch(cli, "2026-11-02T12:00:00+01:00")

    result = cli("follow-up", ref, "--file", write(tmp_path, "update.yaml", FOLLOW_UP),
                 "--by", MUNICIPALITY_REFERENT, "--at", "2026-11-06T09:00:00+01:00")

    assert result.exit_code == 0, result.output
    for address in ACADEMY_ALERTS:
        [mail] = smtp.to(address, "Point de suivi")
        assert "point de suivi à l'autre partie (collectivité) : échéance lundi 9 novembre 2026 à 10h00 (heure de " \
               "Paris) — remplie dans le délai par le présent envoi" in mail.text
        assert "en cours" not in mail.text
    assert obligation(shown(cli, ref, at="2026-11-06T09:00:00+01:00"), "follow_up")["status"] == "open"  # the next
