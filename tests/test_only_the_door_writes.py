"""Nothing writes an incident, an obligation, a decision or a timeline entry beside the door: the handlers and the
timeline's writers are referred to only by the door and the handler modules themselves (read line by line, as a
reviewer would, so that a new call site fails here before it makes a hole in the trail)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cli", "flows", "models", "notifications", "policy", "portal", "reports", "settings")
HANDLER_MODULES = {"models/door.py", "models/lifecycle.py", "models/breach_lifecycle.py", "models/watchdog.py",
                   "models/messaging.py", "models/cadence.py", "models/journal.py", "models/timeline.py",
                   "models/access.py", "models/attachments.py"}
WRITERS = {
    "declare", "propose_scope", "triage", "acknowledge", "record_follow_up", "close", "dismiss",
    "set_personal_data", "record_assessment", "decide", "prepare_drafts", "record_cnil_filing",
    "record_subjects_informed", "take_due_step", "remind_acknowledgement", "record_delivery",
    "record_delivery_failure", "meet", "waive", "open_obligation", "open_follow_up", "record_opened", "record",
    "append_entry", "record_pass", "cancel_notices", "record_cancelled", "cancel_undelivered",
    "request_sign_in", "attach", "enqueue", "enqueue_report",
}
WRITER_MODULES = {"lifecycle", "breach_lifecycle", "watchdog", "messaging", "cadence", "journal", "timeline", "outbox",
                  "access", "attachments"}


def writer_references(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[-1] in WRITER_MODULES:
            found += [f"imports {alias.name} from {node.module}" for alias in node.names if alias.name in WRITERS]
        if isinstance(node, ast.Attribute) and node.attr in WRITERS and isinstance(node.value, ast.Name) \
                and node.value.id in WRITER_MODULES:
            found.append(f"calls {node.value.id}.{node.attr}")
    return found


def test_only_the_door_and_its_handlers_refer_to_a_writer() -> None:
    outside = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative in HANDLER_MODULES or "/migrations/" in relative:
                continue
            references = writer_references(path)
            if references:
                outside[relative] = references
    assert outside == {}


def test_the_check_sees_a_writer_called_beside_the_door(tmp_path: Path) -> None:
    rogue = tmp_path / "rogue.py"
    rogue.write_text("from models.journal import record\nfrom models import lifecycle\nlifecycle.dismiss()\n",
                     encoding="utf-8")
    assert writer_references(rogue) == ["imports record from models.journal", "calls lifecycle.dismiss"]
