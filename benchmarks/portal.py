"""Portal benchmark, in two parts:

1. the triager's dashboard (`GET /incidents` as the académie's security cell) with N open incidents in the store,
   over real HTTP against the portal served by uvicorn on loopback, alternated with the same work without the web
   layer (the route's function called directly: `portal.views.dashboard_rows`, then the Jinja render; no HTTP, no
   FastAPI, no session look-up): median, 95th percentile, their ratio, and the process's CPU time for each;
2. from the declaration form's submit to the alert mails accepted by a local SMTP server, with `incidents serve`
   running (its own Prefect server, its deployments, its portal) as a separate process.

    uv run python benchmarks/portal.py [--incidents 1000] [--requests 30] [--declarations 5]

`--requests 0` skips the first part, `--declarations 0` the second. Each part gets a fresh SQLite store and var/
folder in a temporary directory, removed at the end (`--keep` keeps it, with the service's log).
"""

import argparse
import base64
import contextlib
import gc
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORKDIR = Path(tempfile.mkdtemp(prefix="portal-bench-"))
DASHBOARD_DIR, SERVICE_DIR = WORKDIR / "tableau", WORKDIR / "service"
DASHBOARD_DIR.mkdir()
# Before any project module is imported: settings are read from the environment.
os.environ["INCIDENTS_VAR_DIR"] = str(DASHBOARD_DIR / "var")
os.environ["INCIDENTS_DATABASE_URL"] = f"sqlite:///{DASHBOARD_DIR / 'incidents.db'}"
for name in ("INCIDENTS_CONFIG", "INCIDENTS_TEMPLATES_DIR", "INCIDENTS_PORTAL_URL", "INCIDENTS_SMTP_HOST",
             "INCIDENTS_SMTP_FALLBACK_HOST"):
    os.environ.pop(name, None)  # the example parties, the default templates, mail to files (none is sent here)
os.environ.setdefault("PREFECT_HOME", str(WORKDIR / "prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import httpx  # noqa: E402
import pendulum  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from starlette.requests import Request  # noqa: E402

from models.access import open_session  # noqa: E402
from models.commands import Declare  # noqa: E402
from models.db import get_engine, in_transaction, session_scope  # noqa: E402
from models.declaration import parse_declaration  # noqa: E402
from models.door import execute  # noqa: E402
from settings.parties import Person, load_parties  # noqa: E402

TRIAGER = "rssi@ac-nancy-metz.example.org"  # the académie's security cell: sees every commune's incidents
REFERENT = "referent-ent@villers-les-exemple.example.org"  # declares for 54999 through the form
ACADEMY_ALERTS = ("rssi@ac-nancy-metz.example.org", "dsden54-numerique@ac-nancy-metz.example.org")
COMMUNES = ("54999", "57999", "88999")
REFERENTS = {"54999": "referent-ent@villers-les-exemple.example.org",
             "57999": "numerique@montigny-sur-exemple.example.org",
             "88999": "mairie@saint-exemple.example.org"}
CATEGORY_SETS = (["vendor"], ["vendor", "personal_data"], ["availability"], ["directory", "infrastructure"])
PERSONAL_DATA = ("no", "yes", "unknown")
AWARENESS_SPAN_MINUTES = 96 * 60  # awareness from a few minutes to 4 days ago: the 48-hour alert overdue for half
WARM_UP_REQUESTS = 2
SERVICE_STARTUP_SECONDS = 300
ALERT_TIMEOUT_SECONDS = 180
STOP_TIMEOUT_SECONDS = 60


# --- shared helpers ------------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value at or above `share` of the samples."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms".replace(".", ",")


def fr(number: float, digits: int = 1) -> str:
    return f"{number:.{digits}f}".replace(".", ",")


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        total_kib = int(Path("/proc/meminfo").read_text(encoding="utf-8").split()[1])
        memory = f", {fr(total_kib / 1024 / 1024)} Gio de mémoire"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{cores} cœurs (nproc){f', {model}' if model else ''}{memory}, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def load() -> str:
    """The load average (1, 5, 15 min): other work on the machine shows in the figures."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "inconnue"
    return f"{fr(one, 2)} / {fr(five, 2)} / {fr(fifteen, 2)} (moyennes sur 1, 5 et 15 minutes)"


def person(email: str) -> Person:
    found = load_parties().person(email)
    if found is None:
        raise SystemExit(f"{email} n'est pas dans le fichier des parties d'exemple.")
    return found


# --- part 1: the dashboard -----------------------------------------------------------------------------------------

def seed(count: int, now: pendulum.DateTime) -> list[int]:
    """`count` declarations through the door in one transaction, by their commune's referent, then intake (scope
    proposed, obligations set) as the engine does it; nothing delivered, so every alert is still due."""
    from flows.steps import propose_scopes

    parties = load_parties()
    referents = {commune: person(email) for commune, email in REFERENTS.items()}
    ids: list[int] = []
    with session_scope() as session:
        for index in range(count):
            commune = COMMUNES[index % len(COMMUNES)]
            aware = now.subtract(minutes=5 + (index * 7919) % AWARENESS_SPAN_MINUTES)
            raw = {
                "title": f"Incident de mesure n° {index + 1}",
                "description": "Le prestataire de l'ENT signale un accès illégitime à sa base.",
                "declared_by": "municipality", "municipality": commune,
                "reporter": {"name": "Référent ENT", "email": "referent@example.org"},
                "aware_at": aware.isoformat(), "categories": CATEGORY_SETS[index % len(CATEGORY_SETS)],
                "personal_data": PERSONAL_DATA[(index // len(COMMUNES)) % len(PERSONAL_DATA)],
            }
            declaration = parse_declaration(raw, parties, now)
            incident = execute(session, Declare(declaration), referents[commune], now, parties)
            session.flush()
            assert incident.id is not None
            ids.append(incident.id)
    taken_in = propose_scopes(ids, now)
    if len(taken_in) != count:
        raise SystemExit(f"Prise en charge : {len(taken_in)} incidents sur {count}.")
    return ids


def dashboard_without_web(reader: Person, csrf: str) -> tuple[bytes, float, float, int]:
    """What `GET /incidents` does once signed in, without HTTP, FastAPI's routing and middleware or the session's
    look-up: the route's own function called with the visitor already known, so that its rows
    (`portal.views.dashboard_rows`, in a read transaction) and its Jinja render (`portal.web.render`) are exactly
    those the portal serves. Returns the page, the time of the rows, the time of the rest, the overdue rows."""
    import portal.incidents
    from portal.web import Visitor

    measured: dict[str, Any] = {}
    rows_of = portal.incidents.dashboard_rows

    def timed_rows(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        began = time.perf_counter()
        rows: list[dict[str, Any]] = rows_of(*args, **kwargs)
        measured["rows"], measured["overdue"] = time.perf_counter() - began, sum(1 for r in rows if r["overdue"])
        return rows

    request = Request({"type": "http", "method": "GET", "scheme": "http", "server": ("127.0.0.1", 80),
                       "path": "/incidents", "root_path": "", "query_string": b"", "headers": []})
    request.state.visitor = Visitor(person=reader, csrf=csrf)
    portal.incidents.dashboard_rows = timed_rows  # type: ignore[assignment]  # this process only, for the timing
    try:
        started = time.perf_counter()
        response = portal.incidents.dashboard(request)
        elapsed = time.perf_counter() - started
    finally:
        portal.incidents.dashboard_rows = rows_of
    if response.status_code != 200 or "rows" not in measured:
        raise SystemExit(f"La page du tableau de bord rendue sans la couche web : réponse {response.status_code}.")
    return bytes(response.body), measured["rows"], elapsed - measured["rows"], measured["overdue"]


def summary(label: str, samples: list[float]) -> str:
    return (f"  {label:<34} médiane {ms(statistics.median(samples))}   95e centile {ms(percentile(samples, 0.95))}"
            f"   (min {ms(min(samples)).strip()}, max {ms(max(samples)).strip()})")


def bench_dashboard(count: int, requests: int) -> dict[str, float]:
    from portal.server import start_in_thread

    print(f"\n1. Tableau de bord du RSSI (GET /incidents en tant que {TRIAGER}), {count} incidents ouverts",
          flush=True)
    get_engine()  # the fresh store, migrated
    now = pendulum.now("UTC")
    started = time.perf_counter()
    seed(count, now)
    print(f"  registre rempli en {fr(time.perf_counter() - started)} s ({count} déclarations par la porte en une "
          f"transaction, puis la prise en charge : portée proposée et échéances posées ; non compté)")

    reader = person(TRIAGER)
    opened = in_transaction(lambda session: open_session(session, TRIAGER, "link"))
    port = free_port()
    server = start_in_thread(port)
    http: list[float] = []
    http_cpu: list[float] = []
    direct: list[float] = []
    direct_cpu: list[float] = []
    rows_times: list[float] = []
    render_times: list[float] = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", cookies={"ent_session": opened.token}, timeout=60,
                          follow_redirects=False) as client:
            # Alternated, one request then the same work without the web layer, so that whatever else the machine
            # does at the time weighs on both alike; the garbage of one is collected before the other starts.
            for index in range(WARM_UP_REQUESTS + requests):
                gc.collect()
                began, cpu = time.perf_counter(), time.process_time()
                response = client.get("/incidents")
                body = response.content
                elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
                if response.status_code != 200 or not re.search(rf">{count} incidents?\b", response.text):
                    raise SystemExit(f"GET /incidents : réponse {response.status_code} inattendue "
                                     f"({len(body)} octets) : {response.text[:300]!r}")
                if index == 0:
                    cold, http_size = elapsed, len(body)
                if index >= WARM_UP_REQUESTS:
                    http.append(elapsed)
                    http_cpu.append(cpu)

                gc.collect()
                began, cpu = time.perf_counter(), time.process_time()
                html, rows_time, render_time, overdue = dashboard_without_web(reader, opened.csrf)
                elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
                if index >= WARM_UP_REQUESTS:
                    direct.append(elapsed)
                    direct_cpu.append(cpu)
                    rows_times.append(rows_time)
                    render_times.append(render_time)
    finally:
        server.should_exit = True
    direct_size = len(html)

    print(f"  {count} incidents au tableau, dont {overdue} en retard sur une échéance ; page de "
          f"{fr(http_size / 1024)} Kio par HTTP, {fr(direct_size / 1024)} Kio rendue directement")
    print(f"  première requête (à froid, non comptée) : {ms(cold).strip()} ; puis {WARM_UP_REQUESTS - 1} "
          f"d'échauffement et {requests} mesurées, en alternance avec le même travail sans la couche web :")
    print(summary("par HTTP (uvicorn + FastAPI)", http))
    print(summary("sans la couche web", direct))
    print(summary("  dont les lignes (dashboard_rows)", rows_times))
    print(summary("  dont le rendu (route, Jinja)", render_times))
    ratio = statistics.median(http) / statistics.median(direct)
    cpu_ratio = statistics.median(http_cpu) / statistics.median(direct_cpu)
    print(f"  rapport HTTP / sans la couche web (médianes) : {fr(ratio, 2)} "
          f"(HTTP ajoute {ms(statistics.median(http) - statistics.median(direct)).strip()})")
    print(f"  temps CPU de ce processus (serveur et client), médianes : {ms(statistics.median(http_cpu)).strip()} par "
          f"HTTP, {ms(statistics.median(direct_cpu)).strip()} sans la couche web, rapport {fr(cpu_ratio, 2)}")
    return {"http_median": statistics.median(http), "http_p95": percentile(http, 0.95),
            "direct_median": statistics.median(direct), "direct_p95": percentile(direct, 0.95),
            "ratio": ratio, "cpu_ratio": cpu_ratio, "overdue": overdue}


# --- part 2: from the form to the alert, with `incidents serve` ---------------------------------------------------

class AlertHandler:
    """An aiosmtpd handler noting when each (incident, recipient) was first accepted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: dict[tuple[str, str], float] = {}
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        at = time.perf_counter()
        content = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        headers = BytesParser(policy=default_policy).parsebytes(content, headersonly=True)
        ref = str(headers.get("X-Incident-Ref", ""))
        with self.lock:
            self.messages += 1
            for recipient in envelope.rcpt_tos:
                self.accepted.setdefault((ref, recipient.lower()), at)
        return "250 OK"

    def alerted_at(self, ref: str) -> float | None:
        with self.lock:
            instants = [self.accepted[(ref, r)] for r in ACADEMY_ALERTS if (ref, r) in self.accepted]
        return max(instants) if len(instants) == len(ACADEMY_ALERTS) else None


def wait_for(predicate: Callable[[], Any], seconds: float, what: str, service: subprocess.Popen[bytes] | None = None,
             log: Path | None = None, every: float = 0.05) -> Any:
    limit = time.monotonic() + seconds
    while time.monotonic() < limit:
        found = predicate()
        if found:
            return found
        if service is not None and service.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:] if log and log.exists() else ""
            raise SystemExit(f"Le service s'est arrêté (code {service.returncode}) en attendant {what}.\n{tail}")
        time.sleep(every)
    raise SystemExit(f"Délai dépassé ({seconds:.0f} s) en attendant {what}.")


def portal_answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/connexion", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def prefect_get(state_file: Path, path: str, body: dict[str, Any] | None = None) -> Any:
    """Prefect's API as the service's own commands reach it: the address and credentials it wrote for them."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        token = base64.b64encode(str(state["auth"]).encode()).decode()
        request = urllib.request.Request(f"{state['api_url']}{path}", method="POST" if body is not None else "GET",
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": f"Basic {token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())
    except (OSError, ValueError, KeyError):
        return None


def intake_polled(state_file: Path) -> bool:
    deployment = prefect_get(state_file, "/deployments/name/intake/intake")
    return bool(deployment and deployment.get("last_polled"))


def completed_intake(state_file: Path, ref: str) -> dict[str, Any] | None:
    """The intake flow run of `ref`, once finished; a run that ended otherwise stops the benchmark."""
    runs = prefect_get(state_file, "/flow_runs/filter", {"flow_runs": {"tags": {"all_": [ref]}}})
    run = next((run for run in runs or [] if run.get("name") == f"intake-{ref}"), None)
    state = (run or {}).get("state_type")
    if state in ("FAILED", "CRASHED", "CANCELLED"):
        raise SystemExit(f"Le flow run intake de {ref} a fini dans l'état {state}.")
    return run if state == "COMPLETED" else None


def run_steps(state_file: Path, run: dict[str, Any], submitted_wall: float) -> dict[str, float]:
    """When the flow run was created, taken by the service's runner (Pending), started (Running) and finished,
    in seconds after the form was sent (Prefect's server and this process share the machine's clock)."""
    states = prefect_get(state_file, f"/flow_run_states/?flow_run_id={run['id']}") or []

    def after(state_type: str) -> float:
        instants = [pendulum.parse(state["timestamp"]).timestamp() for state in states  # type: ignore[union-attr]
                    if state.get("type") == state_type]
        return min(instants) - submitted_wall if instants else math.nan

    created = pendulum.parse(run["created"]).timestamp() - submitted_wall  # type: ignore[union-attr]
    return {"created": created, "pending": after("PENDING"), "running": after("RUNNING"),
            "completed": after("COMPLETED")}


def our_processes() -> list[tuple[int, str]]:
    """Live processes started for this benchmark (their environment names its temporary folder)."""
    found = []
    marker = str(WORKDIR).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes():
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
                found.append((int(entry.name), command))
        except OSError:
            continue
    return found


def stop_service(service: subprocess.Popen[bytes]) -> tuple[float, list[tuple[int, str]], list[int]]:
    """SIGTERM to the service's process group, SIGKILL after a minute. Returns how long it took, the processes of
    this benchmark still alive 20 s later (killed then, by pid) and which of them `pgrep -f "prefect server"` lists
    (another Prefect server may run on this machine: only this benchmark's count)."""
    began = time.perf_counter()
    if service.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.pid, signal.SIGTERM)
        try:
            service.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            print(f"  ! le service ne s'est pas arrêté en {STOP_TIMEOUT_SECONDS} s : SIGKILL à son groupe")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.pid, signal.SIGKILL)
            service.wait(timeout=10)
    stopped = time.perf_counter() - began
    deadline = time.monotonic() + 20  # the Prefect server stops with the service (or dies with its parent)
    while our_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    left = our_processes()
    listed = subprocess.run(["pgrep", "-f", "prefect server"], capture_output=True, text=True, check=False).stdout
    servers = [int(pid) for pid in listed.split() if pid.isdigit() and int(pid) in {p for p, _ in left}]
    for pid, command in left:
        print(f"  ! processus resté après l'arrêt du service, tué : {pid} {command[:120]}")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return stopped, left, servers


def bench_service(declarations: int, keep: bool) -> dict[str, Any]:
    print(f"\n2. Du formulaire de déclaration à l'alerte acceptée par SMTP, avec « incidents serve » "
          f"({declarations} déclarations)")
    (SERVICE_DIR / "var").mkdir(parents=True, exist_ok=True)
    store_url = f"sqlite:///{SERVICE_DIR / 'incidents.db'}"
    get_engine(store_url)  # created and migrated here, before the service opens it
    handler = AlertHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    prefect_port, portal_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env.update({
        "INCIDENTS_VAR_DIR": str(SERVICE_DIR / "var"), "INCIDENTS_DATABASE_URL": store_url,
        "INCIDENTS_SMTP_HOST": "127.0.0.1", "INCIDENTS_SMTP_PORT": str(controller.port),
        "PREFECT_HOME": str(SERVICE_DIR / "prefect-home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    })
    log = SERVICE_DIR / "serve.log"
    base = f"http://127.0.0.1:{portal_port}"
    state_file = SERVICE_DIR / "var" / "prefect" / "server.json"
    service: subprocess.Popen[bytes] | None = None
    results: list[dict[str, float]] = []
    stopped, left, servers = 0.0, [], []
    try:
        with open(log, "wb") as output:
            began = time.perf_counter()
            service = subprocess.Popen(
                ["uv", "run", "incidents", "serve", "--port", str(prefect_port), "--portal-port", str(portal_port)],
                cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        wait_for(lambda: portal_answers(base), SERVICE_STARTUP_SECONDS, "le portail", service, log, every=0.1)
        portal_ready = time.perf_counter() - began
        wait_for(lambda: intake_polled(state_file), SERVICE_STARTUP_SECONDS, "le déploiement intake servi", service,
                 log, every=0.1)
        served = time.perf_counter() - began
        print(f"  service démarré (non compté) : portail qui répond après {fr(portal_ready)} s, déploiement intake "
              f"servi après {fr(served)} s")

        opened = in_transaction(lambda session: open_session(session, REFERENT, "link"), store_url)
        with httpx.Client(base_url=base, cookies={"ent_session": opened.token}, timeout=60,
                          follow_redirects=False) as client:
            for index in range(declarations):
                page = client.get("/incidents/nouveau")
                token = re.search(r'name="csrf" value="([^"]+)"', page.text)
                if page.status_code != 200 or token is None:
                    raise SystemExit(f"GET /incidents/nouveau : réponse {page.status_code} sans jeton CSRF : "
                                     f"{page.text[:300]!r}")
                aware = pendulum.now("Europe/Paris").subtract(hours=1).format("YYYY-MM-DDTHH:mm")
                form = {"csrf": token.group(1), "title": f"Mesure du portail n° {index + 1}",
                        "description": "Le prestataire de l'ENT signale un accès illégitime à sa base.",
                        "municipality": "54999", "aware_at": aware, "categories": "vendor", "personal_data": "no"}
                submitted, submitted_wall = time.perf_counter(), time.time()
                answer = client.post("/incidents/nouveau", data=form)
                answered = time.perf_counter() - submitted
                found = re.fullmatch(r"/incidents/([^/]+)/enregistre", answer.headers.get("location", ""))
                if answer.status_code != 303 or found is None:
                    raise SystemExit(f"POST /incidents/nouveau : réponse {answer.status_code} "
                                     f"{answer.text[:300]!r}")
                ref = found.group(1)
                alerted = wait_for(lambda ref=ref: handler.alerted_at(ref), ALERT_TIMEOUT_SECONDS,
                                   f"les alertes de {ref}", service, log)
                total = alerted - submitted
                run = wait_for(lambda ref=ref: completed_intake(state_file, ref), 120,
                               f"la fin du flow run intake de {ref}", service, log, every=0.1)
                steps = run_steps(state_file, run, submitted_wall)
                results.append({"answer": answered, "total": total, **steps})
                print(f"  {index + 1}. {ref} : formulaire accepté en {ms(answered).strip()} ; flow run intake créé à "
                      f"+{fr(steps['created'])} s, pris par le runner à +{fr(steps['pending'])} s, en cours à "
                      f"+{fr(steps['running'])} s ; 2 alertes acceptées par SMTP à +{fr(total, 2)} s ; flow run fini "
                      f"à +{fr(steps['completed'])} s", flush=True)
    finally:
        try:
            if service is not None:
                stopped, left, servers = stop_service(service)
        finally:
            controller.stop()
    print(f"  service arrêté par SIGTERM à son groupe de processus en {fr(stopped)} s ; "
          f"{'aucun processus restant' if not left else f'{len(left)} processus restants (tués)'}, "
          f"{'aucun' if not servers else len(servers)} « prefect server » restant (pgrep -f)")
    if left:
        raise SystemExit(f"Processus restés après l'arrêt du service : {[pid for pid, _ in left]}")
    if not results:
        return {}
    totals = [result["total"] for result in results]

    def median(key: str) -> float:
        return statistics.median(result[key] for result in results)

    print(f"  de l'envoi du formulaire aux 2 alertes acceptées : médiane {fr(statistics.median(totals), 2)} s "
          f"(min {fr(min(totals), 2)} s, max {fr(max(totals), 2)} s)")
    print(f"  dont (médianes) : réponse au formulaire {ms(median('answer')).strip()} ; jusqu'au flow run créé "
          f"{fr(median('created'))} s ; pris par le runner {fr(median('pending') - median('created'))} s de plus ; "
          f"démarrage de son processus (import de Prefect et du projet) {fr(median('running') - median('pending'))} "
          f"s ; du flow run en cours aux alertes acceptées {fr(statistics.median(totals) - median('running'))} s")
    if keep:
        print(f"  journal du service : {log}")
    return {"totals": totals, "median": statistics.median(totals)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=1000, help="incidents ouverts au tableau (1000)")
    parser.add_argument("--requests", type=int, default=30, help="requêtes mesurées du tableau de bord (30 ; 0 : "
                                                                 "pas de première partie)")
    parser.add_argument("--declarations", type=int, default=5, help="déclarations par le formulaire avec le service "
                                                                    "(5 ; 0 : pas de seconde partie)")
    parser.add_argument("--keep", action="store_true", help="garder le dossier temporaire (registres, journal)")
    options = parser.parse_args()
    if options.incidents < 1 and options.requests:
        parser.error("--incidents doit être positif")

    began = time.perf_counter()
    print(f"Mesure du portail — {pendulum.now('Europe/Paris').format('DD/MM/YYYY HH:mm')} (heure de Paris)")
    print(f"Machine : {machine()}")
    print(f"Dossier temporaire : {WORKDIR}")
    print(f"Charge de la machine au départ : {load()}")
    try:
        if options.requests > 0:
            bench_dashboard(options.incidents, options.requests)
        if options.declarations > 0:
            bench_service(options.declarations, options.keep)
    except BaseException:
        print(f"\nÉchec : dossier temporaire gardé pour l'examen (registres, journal du service) : {WORKDIR}",
              flush=True)
        raise
    if not options.keep:
        shutil.rmtree(WORKDIR, ignore_errors=True)
    print(f"\nCharge de la machine à la fin : {load()}")
    print(f"Durée totale : {fr(time.perf_counter() - began)} s")


if __name__ == "__main__":
    main()
