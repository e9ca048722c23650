"""A command loads only what it uses: `--help` loads no store, orchestrator, migrations or renderer; `list` and `show`
read the store through its database driver, without SQLAlchemy or SQLModel; the other reads load no orchestrator,
migrations, renderer or template engine (issue 12: `incidents --help` in half a second, a read in one). What a whole
process imported is read from its own `sys.modules`, not timed: a loaded machine cannot fail it. (Pydantic is still
loaded by `list` and `show`: it validates the parties' file, and Typer coerces options with it.)"""

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.walkers import declared

# Run as `incidents ARGS...` would, then write the names of the modules the process loaded.
PROBE = """
import json, sys
arguments, output = sys.argv[1:-1], sys.argv[-1]
sys.argv = ["incidents", *arguments]
code = 0
try:
    from cli.main import run
    run()
except SystemExit as exit:
    code = exit.code
with open(output, "w", encoding="utf-8") as handle:
    json.dump({"code": code, "modules": sorted(sys.modules)}, handle)
"""

STORE = {"sqlalchemy", "sqlmodel"}
ORCHESTRATION_AND_RENDERING = {"prefect", "alembic", "matplotlib", "weasyprint", "jinja2"}


@dataclass(frozen=True)
class Probed:
    code: int
    stdout: str
    stderr: str
    modules: set[str]  # every module the process loaded, by its full name


def probe(tmp_path: Path, *arguments: str) -> Probed:
    """A whole `incidents` process run for `arguments`: its exit code, its outputs and the modules it loaded."""
    output = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, "-c", PROBE, *arguments, str(output)], capture_output=True, text=True,
                          timeout=120, check=False)
    probed = json.loads(output.read_text(encoding="utf-8"))
    return Probed(probed["code"] or 0, done.stdout, done.stderr, set(probed["modules"]))


def loaded_by(tmp_path: Path, *arguments: str) -> set[str]:
    """The top-level packages a whole `incidents` process loaded for `arguments` (which must succeed)."""
    probed = probe(tmp_path, *arguments)
    assert probed.code == 0, probed.stderr
    return {name.split(".")[0] for name in probed.modules}


@pytest.mark.parametrize("arguments", [["--help"], ["declare", "--help"], ["show", "--help"],
                                       ["decide", "--help"], ["report", "steering", "--help"],
                                       ["db", "upgrade", "--help"], ["serve", "--help"]])
def test_help_loads_no_store_orchestrator_migrations_or_renderer(tmp_path: Path, arguments: list[str]) -> None:
    loaded = loaded_by(tmp_path, *arguments)

    assert loaded & (STORE | ORCHESTRATION_AND_RENDERING) == set()


def test_the_probe_sees_what_a_command_loads(tmp_path: Path) -> None:
    """The probe can fail: the steering report's PDF does load the renderer (an empty period is enough)."""
    loaded = loaded_by(tmp_path, "report", "steering", "--from", "2026-01-01", "--to", "2026-01-31", "--format", "pdf",
                       "--output", str(tmp_path / "rapport.pdf"))

    assert {"sqlalchemy", "weasyprint", "matplotlib"} <= loaded


def test_list_and_show_read_the_store_without_sqlalchemy(tmp_path: Path, plain_cli: Cli) -> None:
    ref = declared(plain_cli, tmp_path)["ref"]  # the store exists and is at the latest schema

    for arguments in (["list"], ["list", "--json", "--overdue"], ["show", ref], ["show", ref, "--json"]):
        loaded = loaded_by(tmp_path, *arguments)

        assert loaded & (STORE | ORCHESTRATION_AND_RENDERING) == set(), arguments
        assert "sqlite3" in loaded  # they did read the store, through its driver


def test_the_other_reads_load_no_orchestrator_migrations_or_renderer(tmp_path: Path, plain_cli: Cli) -> None:
    ref = declared(plain_cli, tmp_path)["ref"]

    for arguments in (["verify"], ["timeline", ref]):
        loaded = loaded_by(tmp_path, *arguments)

        assert loaded & ORCHESTRATION_AND_RENDERING == set(), arguments
        assert "sqlalchemy" in loaded  # they did read the store
