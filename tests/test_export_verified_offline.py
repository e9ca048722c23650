"""An export verified offline passes; the same export with one altered line fails and names it."""

import json

from tests.walkers import declared


def export(cli, tmp_path):
    declared(cli, tmp_path)
    path = tmp_path / "archive.jsonl"
    result = cli("export", "--format", "jsonl", "--output", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_an_export_verifies_offline_and_carries_the_chain_head(cli, tmp_path, monkeypatch):
    path = export(cli, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[-1])
    assert head["type"] == "chain_head"

    # Offline: the store is gone, only the file is read.
    monkeypatch.setenv("INCIDENTS_DATABASE_URL", f"sqlite:///{tmp_path / 'absent' / 'none.db'}")
    result = cli("verify", "--export", str(path))

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (f"Export intègre : {len(lines)} lignes, {head['seq']} entrées, empreinte de "
                                     f"tête {head['hash']}. (Cohérence de l'export avec lui-même : contre qui "
                                     "l'a produit, vérifiez avec --checkpoint.)")
    assert not (tmp_path / "absent").exists()


def test_one_altered_line_fails_and_is_named(cli, tmp_path):
    path = export(cli, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines, start=1) if '"kind": "scope_proposed"' in line)
    lines[number - 1] = lines[number - 1].replace('"scope": "municipality"', '"scope": "academy"')
    path.write_text("".join(lines), encoding="utf-8")

    result = cli("verify", "--export", str(path))

    assert result.exit_code == 1
    record = json.loads(lines[number - 1])
    assert result.stderr.strip() == (f"Export invalide à la ligne {number} : entrée n° {record['seq']} "
                                     f"({record['incident_ref']}) : contenu modifié.")


def test_an_altered_incident_line_is_named_too(cli, tmp_path):
    path = export(cli, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace("Messagerie", "Message")
    path.write_text("".join(lines), encoding="utf-8")

    result = cli("verify", "--export", str(path))

    assert result.exit_code == 1
    assert result.stderr.strip() == "Export invalide à la ligne 2 : incident INC-2026-0001 : contenu modifié."
