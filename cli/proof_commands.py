"""Commands of the proof that holds against whoever runs the server: signed checkpoints of the timeline, and the
proof of one incident's entries an auditor verifies offline with the public key alone (`python -m proof.offline`).

The store and the proof package are imported inside each command: see cli/app.py on start-up."""

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.app import ByOption, RefArgument, app, fail, person, user_errors
from models.errors import cause

if TYPE_CHECKING:
    from models.checkpoints import SignedCheckpoint
    from proof.checkpoint import Checkpoint
    from proof.keys import VerifierKey

OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Écrire dans ce fichier plutôt qu'à "
                                                                          "l'écran.")]


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"Refusé : champ « --output » : écriture impossible ({cause(error)}).", 2)
    typer.echo(f"Écrit dans {output}.")


@app.command()
def checkpoint(public_key: Annotated[bool, typer.Option("--public-key", help="Donner seulement la clé publique "
                                                                              "du journal, à conserver.")] = False,
               by: ByOption = None) -> None:
    """Signer maintenant un point de contrôle de la chronologie (taille et racine de l'arbre de Merkle)."""
    import pendulum

    from models.checkpoints import latest, signing_key
    from models.commands import SignCheckpoint
    from models.db import read_scope
    from models.door import ENGINE, run
    from models.queries import require_whole_store

    with user_errors():
        reader = person(by)  # the public key and the checkpoints hold nothing of any incident: every party's
        if not public_key:
            require_whole_store(reader, "la signature d'un point de contrôle")
        loaded = signing_key()
        if loaded.created:
            typer.echo(f"Clé de signature créée : {loaded.source}. Clé publique à remettre aux parties : "
                       f"{loaded.key.public_text()}", err=True)
        if public_key:
            typer.echo(loaded.key.public_text())
            return
        signed = run(SignCheckpoint(), ENGINE, pendulum.now("UTC"))
        with read_scope() as session:
            row = latest(session)
    if row is None:
        fail("La chronologie est vide : aucun point de contrôle à signer.")
    if signed is None:
        typer.echo("Aucune entrée depuis le dernier point de contrôle ; le voici :", err=True)
    said = timestamp_said(row)
    if said is not None:  # on the error stream: the standard output is the note alone, to keep as a file
        typer.echo(said, err=True)
    typer.echo(row.note, nl=False)


def timestamp_said(row: "SignedCheckpoint") -> str | None:
    """What `incidents checkpoint` says of the checkpoint's RFC 3161 timestamp, in French; None when no
    authority was asked."""
    from models.checkpoints import timestamp_view
    from rendering.formats import paris_datetime

    if row.timestamp_problem is not None:
        return (f"Point de contrôle signé, mais non horodaté : {row.timestamp_problem}. Il reste valable ; le "
                "prochain sera de nouveau soumis à l'autorité d'horodatage.")
    view = timestamp_view(row)
    if view is None:
        return None
    if view["gen_time"] is None:
        return f"Point de contrôle signé ; son jeton d'horodatage est illisible : {view['problem']}."
    return (f"Point de contrôle horodaté par « {view['authority']} » le {paris_datetime(view['gen_time'])} "
            "(jeton RFC 3161 conservé avec lui : « incidents checkpoints »).")


@app.command()
def checkpoints(output: OutputOption = None, by: ByOption = None) -> None:
    """Tous les points de contrôle signés, du plus ancien au plus récent (JSON), pour les conserver."""
    import json

    from models.checkpoints import all_checkpoints, timestamp_view
    from models.db import read_scope
    from rendering.formats import iso

    with user_errors():
        person(by)  # any declared person: a checkpoint holds sizes and hashes, nothing of an incident
        with read_scope() as session:
            rows = [{"size": row.size, "root": row.root, "taken_at": iso(row.taken_at), "note": row.note,
                     "timestamp": timestamp_view(row), "timestamp_problem": row.timestamp_problem}
                    for row in all_checkpoints(session)]
    _write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n", output)


@app.command()
def consistency(since: Annotated[Path, typer.Option("--since", help="Le point de contrôle que vous avez conservé.")],
                output: OutputOption = None, by: ByOption = None) -> None:
    """La preuve que la chronologie d'aujourd'hui prolonge un point de contrôle conservé (preuve de cohérence),
    vérifiable hors ligne avec la seule clé publique (voir la section « Preuve opposable » du guide)."""
    import pendulum

    from models.checkpoints import latest, tree
    from models.commands import SignCheckpoint
    from models.db import read_scope
    from models.door import ENGINE, run
    from proof.document import consistency_document, dump_document
    from rendering.formats import grouped

    with user_errors():
        person(by)  # sizes and hashes only: any declared person
        held = held_checkpoint(since, None)
        run(SignCheckpoint(), ENGINE, pendulum.now("UTC"))
        with read_scope() as session:
            row = latest(session)
            assert row is not None
            if row.size < held.size:
                fail(f"La chronologie ne compte plus que {grouped(row.size)} entrées, le point de contrôle conservé en "
                     f"atteste {grouped(held.size)} : aucune preuve de cohérence n'est possible.")
            document = consistency_document(_read_note(since), row.note, tree(session, row.size))
    _write(dump_document(document), output)


@app.command()
def proof(ref: RefArgument, output: OutputOption = None, by: ByOption = None) -> None:
    """La preuve des entrées d'un incident : chacune avec son chemin d'inclusion dans l'arbre d'un point de contrôle
    signé, vérifiable hors ligne avec la seule clé publique (voir la section « Preuve opposable » du guide)."""
    import pendulum

    from models.checkpoints import latest, tree
    from models.commands import SignCheckpoint
    from models.db import read_scope
    from models.door import ENGINE, run
    from models.gate import readable_commune
    from models.queries import readable_entries, readable_incident
    from models.timeline import canonical_texts
    from proof.document import ProofEntry, dump_document, inclusion_document

    with user_errors():
        reader = person(by)
        with read_scope() as session:
            incident = readable_incident(session, ref, reader)
            seqs = [entry.seq for entry in readable_entries(session, incident, readable_commune(reader))]
        if not seqs:
            fail(f"L'incident {incident.ref} n'a aucune entrée à prouver.")
        run(SignCheckpoint(), ENGINE, pendulum.now("UTC"))  # a checkpoint covering its last entry
        with read_scope() as session:
            row = latest(session)
            assert row is not None and row.size >= seqs[-1]
            whole = tree(session, row.size)
            entries = [ProofEntry(seq - 1, canonical=next(canonical_texts(session, seq - 1, seq))) for seq in seqs]
        document = inclusion_document(row.note, whole, entries)
    _write(dump_document(document), output)


def held_checkpoint(note_file: Path, public_key_text: str | None) -> "Checkpoint":
    """A checkpoint an auditor kept, opened with the log's public key (given, or this installation's): refused by
    name when it is no checkpoint signed with that key."""
    from proof.checkpoint import open_checkpoint
    from proof.errors import ProofError

    note = _read_note(note_file)
    key = _verifier(public_key_text)
    try:
        return open_checkpoint(note, key)
    except ProofError as error:
        fail(f"Refusé : le point de contrôle « {note_file} » : {error}.", 2)


def _verifier(public_key_text: str | None) -> "VerifierKey":
    from proof.errors import ProofError
    from proof.keys import parse_verifier_key

    try:
        if public_key_text is not None:
            return parse_verifier_key(public_key_text)
        from models.checkpoints import public_key

        return public_key()
    except ProofError as error:
        fail(f"Refusé : option « --public-key » : {error}.", 2)


def _read_note(note_file: Path) -> str:
    try:
        return note_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"Refusé : option « --checkpoint » : le fichier « {note_file} » n'existe pas.", 2)
    except (OSError, UnicodeDecodeError):
        fail(f"Refusé : option « --checkpoint » : le fichier « {note_file} » n'est pas un texte lisible.", 2)


def held_checkpoint_problem(note_file: Path, public_key_text: str | None) -> str | None:
    """For `verify --checkpoint`: what is wrong with today's timeline against a checkpoint an auditor kept, or
    None when today's tree extends it; refuses, by name, a file that is no checkpoint signed with the log's key
    (the auditor's own copy of it with --public-key, else this installation's)."""
    from models.checkpoints import extends
    from models.db import read_scope
    from rendering.formats import grouped

    held_checkpoint(note_file, public_key_text)  # refused here, by name, before the store is read
    with read_scope() as session:
        held, problem = extends(session, _read_note(note_file), _verifier(public_key_text))
    if problem is None:
        typer.echo(f"La chronologie prolonge le point de contrôle conservé ({grouped(held.size)} entrées) : aucune de "
                   "ses entrées n'a été modifiée, supprimée ni déplacée."
                   + (" (Signature vérifiée avec la clé publique de ce serveur : pour ne pas dépendre de lui, donnez "
                      "la vôtre avec --public-key.)" if public_key_text is None else ""))
    return problem


def timestamp_check(note_file: Path, token_file: Path, ca_file: Path | None) -> str:
    """For `verify --checkpoint FILE --timestamp TOKEN`: the RFC 3161 token checked offline against the kept note
    (its SHA-256) and the authority's certificates (--tsa-ca, else INCIDENTS_TSA_CA_FILE); what it proves, in
    French, or refused by name."""
    import base64
    import binascii
    import os

    from proof.timestamping import TSA_CA_FILE_SETTING, TimestampError, load_certificates, verify_token
    from rendering.formats import paris_datetime

    note = _read_note(note_file)
    try:
        token = token_file.read_bytes()
    except OSError as error:
        fail(f"Refusé : option « --timestamp » : le fichier « {token_file} » est illisible ({cause(error)}).", 2)
    with contextlib.suppress(binascii.Error, ValueError):  # the JSON's base64 text, pasted into a file, is accepted
        token = base64.b64decode(token.strip(), validate=True)
    ca_path = ca_file or (Path(os.environ[TSA_CA_FILE_SETTING]) if os.environ.get(TSA_CA_FILE_SETTING) else None)
    if ca_path is None:
        fail("Refusé : option « --tsa-ca » : donnez le certificat de l'autorité d'horodatage (PEM) pour vérifier "
             "son jeton.", 2)
    try:
        roots = load_certificates(ca_path)
    except TimestampError as error:
        fail(f"Refusé : option « --tsa-ca » : {error}.", 2)
    try:
        stamp = verify_token(token, note, roots)
    except TimestampError as error:
        fail(f"Horodatage non vérifié : {error}.")
    return (f"Horodatage vérifié : « {stamp.authority} » atteste que ce point de contrôle existait le "
            f"{paris_datetime(stamp.gen_time)}.")
