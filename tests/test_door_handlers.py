"""The door finds a handler for every command of the transition table, by name: it imports a handler's module when
that module's first command runs, so that a declaration does not load the proof's cryptography (issue 12)."""

import subprocess
import sys

from models.door import HANDLERS, handler
from policy.transitions import TRANSITIONS, Command


def test_every_command_of_the_table_has_a_handler_the_door_finds() -> None:
    assert set(HANDLERS) == set(Command) == set(TRANSITIONS)
    for command in Command:
        assert callable(handler(command)), command


def test_the_door_alone_loads_no_proof_no_breach_assessment_and_no_sign_in() -> None:
    probe = "import sys, models.door; print(sorted(name for name in sys.modules if name.startswith(('cryptography', " \
            "'proof', 'models.checkpoints', 'models.breach_lifecycle', 'models.access'))))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)

    assert done.stdout.strip() == "[]"
