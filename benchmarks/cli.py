"""CLI start-up benchmark: whole-process times of `incidents` commands, as a user's shell runs them, each against its
target (issue 12) and against `python -c pass` run by the same interpreter in the same rounds (the interpreter's own
start-up: what any command costs at least), with its CPU time (user + system, as the operating system counts it for
the finished process), which other work on a shared machine moves less than the wall time.

    uv run python benchmarks/cli.py [--runs 10] [--declarations 5]

`--help`, `list`, `show REF` and `verify` run on a small store (a few declarations), with no service; then a real
`incidents serve` (its own Prefect server, its deployments, its portal on a free port, mail written to .eml files)
is started, and `declare FILE` is timed while it runs, each declaration's intake run left to finish before the next
(the service's work is not the command's). Each command gets one run first, not counted: it writes the bytecode
(Python's .pyc files) that an installed project has, which PYTHONDONTWRITEBYTECODE would otherwise forbid.
Everything lives in a temporary directory, removed at the end (`--keep` keeps it, with the service's log).
"""

import argparse
import base64
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
INCIDENTS = str(Path(sys.executable).parent / "incidents")
WORKDIR = Path(tempfile.mkdtemp(prefix="cli-bench-"))
ACADEMY = "rssi@ac-nancy-metz.example.org"  # the académie's security cell: reads every commune's incidents
REFERENT = "referent-ent@villers-les-exemple.example.org"
DECLARATION = ROOT / "examples" / "declaration.yaml"
TARGETS = {"--help": 0.5, "list": 1.0, "show": 1.0, "verify": None, "declare (service en marche)": 1.5}
SERVICE_STARTUP_SECONDS = 300  # an ephemeral Prefect server takes 15-25 s here, more on a loaded machine
RUN_TIMEOUT_SECONDS = 180


def fr(number: float, digits: int = 2) -> str:
    return f"{number:.{digits}f}".replace(".", ",")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return f"{platform.system()} {platform.release()}, {len(os.sched_getaffinity(0))} cœurs ({model}), Python " \
           f"{platform.python_version()}"


def load() -> str:
    return " ; ".join(fr(value) for value in os.getloadavg())


def environment() -> dict[str, str]:
    """A user's shell on this benchmark's store and var/ folder, mail written to files, no Prefect settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PREFECT_", "INCIDENTS_")) and key != "PYTHONDONTWRITEBYTECODE"}
    env.update({"INCIDENTS_VAR_DIR": str(WORKDIR / "var"),
                "INCIDENTS_DATABASE_URL": f"sqlite:///{WORKDIR / 'incidents.db'}",
                "INCIDENTS_ACTOR": ACADEMY,
                "PREFECT_HOME": str(WORKDIR / "prefect-home"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"})
    return env


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall seconds and CPU seconds (user + system, the operating system's count for the reaped child)."""
    cpu, began = children_cpu(), time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, check=False)
    elapsed, used = time.perf_counter() - began, children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"« {' '.join(command)} » a échoué (code {done.returncode}) :\n{done.stderr[-2000:]}")
    return elapsed, used, done


Rounds = tuple[list[float], list[float], list[float]]  # the command's wall and CPU seconds, python -c pass's wall


def rounds(command: list[str], env: dict[str, str], runs: int,
           after: Callable[[subprocess.CompletedProcess[str]], None] | None = None) -> Rounds:
    """`runs` rounds of `python -c pass` then the command; one of each first, not counted."""
    baseline = [sys.executable, "-c", "pass"]
    times: list[float] = []
    cpus: list[float] = []
    passes: list[float] = []
    for index in range(runs + 1):
        passed, _, _ = timed(baseline, env)
        elapsed, used, done = timed(command, env)
        if after is not None:
            after(done)
        if index:
            passes.append(passed)
            times.append(elapsed)
            cpus.append(used)
    return times, cpus, passes


def report(name: str, measured: Rounds) -> dict[str, Any]:
    times, cpus, passes = measured
    median, baseline = statistics.median(times), statistics.median(passes)
    target = TARGETS[name]
    verdict = "" if target is None else f" ; cible ≤ {fr(target, 1)} s : " + ("tenue" if median <= target else
                                                                              "MANQUÉE")
    print(f"  incidents {name:<28} médiane {fr(median)} s (min {fr(min(times))}, max {fr(max(times))}) ; "
          f"{fr(median / baseline, 0)} × « python -c pass » ({fr(baseline * 1000, 0)} ms) ; temps CPU "
          f"{fr(statistics.median(cpus))} s{verdict}", flush=True)
    return {"command": name, "median": median, "min": min(times), "max": max(times), "cpu": statistics.median(cpus),
            "python_c_pass": baseline, "target": target}


# --- the service ----------------------------------------------------------------------------------------------------

def prefect(path: str, body: dict[str, Any] | None = None) -> Any:
    """Prefect's API as the service's commands reach it: the address and credentials it wrote for them."""
    try:
        state = json.loads((WORKDIR / "var" / "prefect" / "server.json").read_text(encoding="utf-8"))
        token = base64.b64encode(str(state["auth"]).encode()).decode()
        request = urllib.request.Request(f"{state['api_url']}{path}", method="POST" if body is not None else "GET",
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": f"Basic {token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())
    except (OSError, ValueError, KeyError):
        return None


def wait_for(predicate: Callable[[], Any], seconds: float, what: str, service: subprocess.Popen[bytes]) -> None:
    limit = time.monotonic() + seconds
    while time.monotonic() < limit:
        if predicate():
            return
        if service.poll() is not None:
            log = (WORKDIR / "serve.log").read_text(encoding="utf-8", errors="replace")[-3000:]
            raise SystemExit(f"Le service s'est arrêté (code {service.returncode}) en attendant {what}.\n{log}")
        time.sleep(0.2)
    raise SystemExit(f"Délai dépassé ({seconds:.0f} s) en attendant {what}.")


def intake_served() -> bool:
    deployment = prefect("/deployments/name/intake/intake")
    return bool(deployment and deployment.get("last_polled"))


def intake_finished(ref: str) -> bool:
    runs = prefect("/flow_runs/filter", {"flow_runs": {"tags": {"all_": [ref]}}}) or []
    states = {run.get("state_type") for run in runs if run.get("name") == f"intake-{ref}"}
    if states & {"FAILED", "CRASHED", "CANCELLED"}:
        raise SystemExit(f"Le flow run intake de {ref} a échoué : {states}.")
    return "COMPLETED" in states


def our_processes() -> list[int]:
    """Live processes started for this benchmark (their environment names its temporary folder)."""
    found, marker = [], str(WORKDIR).encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if marker in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
    return found


def stop(service: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the service's process group; SIGKILL, by pid, to whatever of ours outlives it by 20 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(service.pid, signal.SIGTERM)
    try:
        service.wait(timeout=60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.pid, signal.SIGKILL)
        service.wait(timeout=10)
    deadline = time.monotonic() + 20
    while our_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in our_processes():
        print(f"  ! processus resté après l'arrêt du service, tué : {pid}")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def declare_with_service(env: dict[str, str], runs: int) -> Rounds:
    prefect_port, portal_port = free_port(), free_port()
    with open(WORKDIR / "serve.log", "wb") as log:
        service = subprocess.Popen([INCIDENTS, "serve", "--port", str(prefect_port), "--portal-port",
                                    str(portal_port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        began = time.perf_counter()
        wait_for(intake_served, SERVICE_STARTUP_SECONDS, "le déploiement intake servi", service)
        print(f"  service démarré (non compté) : déploiement intake servi après {fr(time.perf_counter() - began, 1)} "
              f"s ; charge moyenne {load()}", flush=True)

        def handed_to_the_service(done: subprocess.CompletedProcess[str]) -> None:
            if "Remise confiée au service Prefect en cours d'exécution." not in done.stdout:
                raise SystemExit(f"« declare » n'a pas confié la remise au service :\n{done.stdout}\n{done.stderr}")
            ref = done.stdout.split("Incident enregistré : ")[1].split()[0]
            wait_for(lambda: intake_finished(ref), 180, f"la fin du flow run intake de {ref}", service)

        return rounds([INCIDENTS, "declare", str(DECLARATION), "--by", REFERENT], env, runs, handed_to_the_service)
    finally:
        stop(service)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--declarations", type=int, default=5, help="déclarations du registre lu par list et show "
                                                                       "(leurs alertes écrites en fichiers)")
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    # SIGTERM (or Ctrl-C in the background, where it is ignored) still stops the service and removes the folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    env = environment()
    print(f"Démarrage de la ligne de commande, processus entiers, {options.runs} mesures (médiane, min, max)\n"
          f"  {machine()} ; charge moyenne (1, 5, 15 min) {load()} ; dossier {WORKDIR}", flush=True)
    try:
        refs = [timed([INCIDENTS, "declare", str(DECLARATION), "--by", REFERENT], env)[2].stdout  # no service:
                .split("Incident enregistré : ")[1].split()[0] for _ in range(max(1, options.declarations))]
        results = [report("--help", rounds([INCIDENTS, "--help"], env, options.runs)),
                   report("list", rounds([INCIDENTS, "list"], env, options.runs)),
                   report("show", rounds([INCIDENTS, "show", refs[0]], env, options.runs)),
                   report("verify", rounds([INCIDENTS, "verify"], env, options.runs))]
        results.append(report("declare (service en marche)", declare_with_service(env, options.runs)))
        print(f"  charge moyenne à la fin : {load()}")
        missed = [result["command"] for result in results
                  if result["target"] is not None and result["median"] > result["target"]]
        print("Toutes les cibles sont tenues." if not missed else f"Cibles manquées : {', '.join(missed)}.")
    finally:
        if options.keep:
            print(f"Conservé : {WORKDIR}")
        else:
            shutil.rmtree(WORKDIR, ignore_errors=True)


if __name__ == "__main__":
    main()
