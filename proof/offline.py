"""Verify a proof file offline, with the log's public key alone.

    python -m proof.offline --public-key CLÉ preuve.json
    python -m proof.offline --public-key CLÉ --checkpoint ancien-point.txt coherence.json

CLÉ is the public key as the parties keep it (`<journal>+<identifiant>+<base64>`, printed when the key was
created), or a file holding it (or a PEM public key). An inclusion file (`incidents proof`) proves that each of its
entries is in the tree a signed checkpoint commits to; a consistency file proves that a newer checkpoint extends an
older one, which the auditor gives with --checkpoint (the copy received by mail or in a report), else the one in the
file is used. The format is described in `proof/document.py`.

Needs Python 3.11 and the `cryptography` package only; nothing is read but the files named. Exit status: 0 when
everything was proven, 1 when a proof fails or a checkpoint is refused (another key, altered, malformed), 2 when
the files cannot be read.

By hand, without this program: for each entry, leaf = SHA-256(0x00 || UTF-8 canonical text); fold the path as
RFC 9162 §2.1.3.2 says, with node = SHA-256(0x01 || left || right); compare with the checkpoint's third line
(base64); check the checkpoint's Ed25519 signature over its text (c2sp.org/signed-note).
"""

import argparse
import sys
from pathlib import Path

from proof.document import load_document, verify_document
from proof.errors import MalformedProofFile, ProofError, SigningKeyError
from proof.keys import VerifierKey, parse_verifier_key


class _FrenchParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse's own message is English: the usage line above says what is expected.
        sys.stderr.write(f"{self.format_usage()}Commande incomplète ou incorrecte : il faut le fichier de preuve et "
                         "--public-key. Aide : python -m proof.offline --help\n")
        raise SystemExit(2)


class _FrenchHelp(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage: str | None, actions: object, groups: object, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix or "utilisation : ")  # type: ignore[arg-type]


HELP = """Vérifie hors ligne un fichier de preuve du journal des incidents, avec la seule clé publique du journal.

Preuve d'inclusion (écrite par « incidents proof ») : chaque entrée du fichier figure dans l'arbre
dont un point de contrôle signé donne la racine. Preuve de cohérence : le nouveau point de contrôle
prolonge l'ancien sans rien en retirer ni modifier ; l'ancien est celui que l'auditeur détient
(--checkpoint), à défaut celui du fichier.

CLÉ : la clé publique telle que les parties la gardent (journal+identifiant+clé), ou un fichier
qui la contient (ou une clé publique PEM).

Code de sortie : 0 si tout est prouvé, 1 si une preuve échoue ou si un point de contrôle est refusé
(autre clé, texte modifié, format incorrect), 2 si les fichiers ne peuvent être lus."""


def _parser() -> argparse.ArgumentParser:
    parser = _FrenchParser(prog="python -m proof.offline", description=HELP, formatter_class=_FrenchHelp,
                           add_help=False)
    parser._positionals.title = "argument"
    parser._optionals.title = "options"
    parser.add_argument("proof", metavar="PREUVE", help="fichier de preuve (JSON)")
    parser.add_argument("--public-key", required=True, metavar="CLÉ",
                        help="clé publique du journal, ou fichier qui la contient")
    parser.add_argument("--checkpoint", metavar="FICHIER",
                        help="ancien point de contrôle détenu par l'auditeur (preuve de cohérence)")
    parser.add_argument("-h", "--help", action="help", help="afficher cette aide")
    return parser


def run(argv: list[str]) -> tuple[int, list[str]]:
    """The exit status and the lines to print: what was verified, or why not."""
    options = _parser().parse_args(argv)
    try:
        key = _public_key(options.public_key)
        document = load_document(_read(Path(options.proof), "fichier de preuve"))
        held = _read(Path(options.checkpoint), "point de contrôle") if options.checkpoint else None
    except (MalformedProofFile, SigningKeyError) as error:
        return 2, [f"Vérification impossible : {error}."]
    lines = [f"Clé publique : {key.describe()}."]
    try:
        report = verify_document(document, key, held)
    except MalformedProofFile as error:
        return 2, [*lines, f"Vérification impossible : {error}."]
    except ProofError as error:
        return 1, [*lines, f"Point de contrôle refusé : {error}.", "Résultat : ÉCHEC."]
    return (0 if report.ok else 1), [*lines, *report.lines]


def _public_key(value: str) -> VerifierKey:
    path = Path(value)
    if len(value) < 256 and path.is_file():
        value = _read(path, "clé publique")
    return parse_verifier_key(value)


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise MalformedProofFile(f"{what} {path} introuvable") from error
    except UnicodeDecodeError as error:
        raise MalformedProofFile(f"{what} {path} illisible : texte UTF-8 attendu") from error
    except IsADirectoryError as error:
        raise MalformedProofFile(f"{what} {path} : c'est un dossier, pas un fichier") from error
    except OSError as error:
        raise MalformedProofFile(f"{what} {path} illisible") from error


def main(argv: list[str] | None = None) -> int:
    try:
        status, lines = run(sys.argv[1:] if argv is None else argv)
    except (ValueError, TypeError, RecursionError, UnicodeError, OverflowError, MemoryError) as error:
        # A file built to break the reader (a 5,000-digit index, nesting, lone surrogates, a year 9999): refused.
        print(f"Fichier de preuve refusé : il n'a pas la forme attendue ({_kind(error)}).")
        return 2
    print("\n".join(lines))
    return status


def _kind(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "imbrication trop profonde"
    if isinstance(error, UnicodeError):
        return "texte qui n'est pas de l'Unicode valide"
    if isinstance(error, (OverflowError, MemoryError)):
        return "valeur démesurée"
    return "valeur d'un type ou d'une taille inattendus"


if __name__ == "__main__":
    raise SystemExit(main())
