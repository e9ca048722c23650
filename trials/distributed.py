"""Trial: the distributed set-up, run for real: a Prefect server on PostgreSQL, the store on PostgreSQL, a process
work pool, the deployments of prefect.yaml deployed, and two `prefect worker` processes delivering to an SMTP relay.

    uv run python -m trials.distributed [--size N] [--burst M] [--postgres URL]

First N declarations (default 200: two alerts and the declarant's receipt each): two by `incidents declare`, which
hands each one's intake over to the `intake` deployment, the others committed through the door meanwhile; then engine
passes (the `watchdog` deployment, one flow run batching everything due: queued incidents and the outbox)
are triggered until every message is sent, with each worker running at most one flow run at a time, so that both
take part. Then a burst of M more declarations (default 100) with a slow relay: once both workers are delivering,
one is killed with SIGKILL (its whole process tree: the worker and the flow-run process it started). The survivor
finishes its pass; new passes on it take the killed one's claims over once their lease has run out.

It holds when every message is sent and received, nothing twice in the first part, both workers ran flow runs, the
chain verifies (`incidents verify`), and after the kill nothing is lost and the Message-IDs received twice are no
more than the messages the killed worker had in flight (attempt begun, delivery not recorded).
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pendulum
import psycopg
from sqlalchemy import make_url
from sqlmodel import col, select

from models.db import session_scope
from models.outbox import MessageStatus, OutboxMessage
from trials.common import (
    AWARE_BEFORE,
    COMMUNES,
    REFERENTS,
    ROOT,
    Store,
    declare,
    duplicates,
    environment,
    fresh_store,
    lost,
    postgres_or_server,
    relay_env,
    report,
    stored_messages,
    trial_arguments,
    unsettled_messages,
)
from trials.postgres import free_port
from trials.relay import Relay, wait_until

POOL = "ent-incidents"
WATCHDOG = "engine-pass/watchdog"
LEASE_SECONDS = 6  # the claim lease of the trial: a killed worker's claims are taken over soon after
SERVER_STARTUP_TIMEOUT = 240  # 15–25 s on an idle 2-core machine; much more under other agents' tests
RUN_TIMEOUT = 300  # one flow run, from its creation to its end: process start (imports) and the pass
# Seconds per DATA until both workers deliver the burst: one pass alone then needs about a minute for 80 declarations,
# which is time for the other worker to poll and start its flow run on a loaded machine; a fast relay once let one
# pass claim the whole burst before the other began.
WAITING_DELAY = 1.0
VERIFIER = "audit-ent@ac-nancy-metz.example.org"  # any declared person may check the chain
BIN = Path(sys.executable).parent


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def prefect_database(server_url: str) -> Iterator[str]:
    """A new, empty database for Prefect's server on the PostgreSQL server of `server_url`; yields its asyncpg URL
    (Prefect migrates it at start) and drops it at exit."""
    name = f"prefect_trial_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(drivername="postgresql+asyncpg", database=name).render_as_string(
            hide_password=False)
    finally:
        with psycopg.connect(_libpq(server_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _children() -> dict[int, list[int]]:
    """Parent pid → child pids, over every process of the machine (/proc)."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    """The processes `pid` started, and theirs, recursively (a process worker's flow-run processes run in sessions
    of their own: its process group does not hold them)."""
    tree, found, stack = _children(), [], [pid]
    while stack:
        for child in tree.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal the process group of `pid`, never the trial's own."""
    with suppress(ProcessLookupError, PermissionError):
        group = os.getpgid(pid)
        if group != os.getpgid(0):
            os.killpg(group, sig)


class Worker:
    """`prefect worker start --pool ent-incidents` as its own process group, with the trial's environment."""

    def __init__(self, name: str, env: dict[str, str], folder: Path, limit: int) -> None:
        self.name, self.killed = name, False
        self.log = folder / f"{name}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--name", name, "--type", "process",
                 "--limit", str(limit)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def flow_run_processes(self) -> list[int]:
        return descendants(self.process.pid) if self.running else []

    def kill(self) -> int:
        """SIGKILL to the worker's process group and to every process it started (each flow run's own session):
        stopped first, so that none starts another meanwhile; returns how many processes were killed."""
        stopped: set[int] = set()
        while True:
            tree = {self.process.pid, *descendants(self.process.pid)} - stopped
            if not tree:
                break
            for pid in tree:
                _signal_group(pid, signal.SIGSTOP)
            stopped |= tree
        for pid in stopped:
            _signal_group(pid, signal.SIGKILL)
        self.killed = True
        self.process.wait(30)
        wait_until(lambda: not any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in stopped), 30,
                   f"the processes of {self.name} to die")
        return len(stopped)

    def stop(self) -> None:
        if not self.running:
            return
        for pid in [self.process.pid, *descendants(self.process.pid)]:
            _signal_group(pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


@dataclass
class Cluster:
    """The distributed set-up, running: what a trial or a benchmark drives."""

    api_url: str
    store: Store
    relay: Relay
    workers: list[Worker]
    env: dict[str, str]  # the environment of the workers (and of any `prefect` or `incidents` command)
    folder: Path
    lease_seconds: int  # the claim lease of the workers' passes
    api: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.api = httpx.Client(base_url=self.api_url, timeout=60)

    def prefect(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """A `prefect` command against the trial's server, non-interactive."""
        done = subprocess.run([str(BIN / "prefect"), "--no-prompt", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"prefect {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def incidents(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "incidents"), *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        for attempt in range(10):  # a loaded server may answer 503 for a moment
            response = self.api.post(path, json=body)
            if response.status_code != 503:
                break
            time.sleep(0.5 * (attempt + 1))
        response.raise_for_status()
        return response.json()

    def trigger(self, deployment: str = WATCHDOG, count: int = 1,
                parameters: dict[str, Any] | None = None) -> list[str]:
        """Create `count` flow runs of a deployment (ids only as parameters); returns their ids."""
        response = self.api.get(f"/deployments/name/{deployment}")
        response.raise_for_status()
        deployment_id = response.json()["id"]
        return [self._post(f"/deployments/{deployment_id}/create_flow_run",
                           {"parameters": parameters or {}, "tags": ["trial"]})["id"] for _ in range(count)]

    def flow_runs(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        runs = self._post("/flow_runs/filter", {"flow_runs": {"id": {"any_": ids}}, "limit": 200})
        return {run["id"]: run for run in runs}

    def states(self, ids: list[str]) -> dict[str, str]:
        return {run_id: run["state_type"] for run_id, run in self.flow_runs(ids).items()}

    def wait_runs_final(self, ids: list[str], timeout: float = RUN_TIMEOUT) -> dict[str, str]:
        """Wait until each flow run is in a final state (or its worker was killed); returns the states."""
        final = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
        states: dict[str, str] = {}

        def done() -> bool:
            states.update(self.states(ids))
            return all(states.get(run_id) in final for run_id in ids)

        wait_until(done, timeout, f"flow runs {ids} to end (states {states})", poll=1.0)
        return states

    def runners(self, ids: list[str], timeout: float = 120,
                enough: Callable[[dict[str, str]], bool] | None = None) -> dict[str, str]:
        """Which worker submitted each flow run, from the events the workers send to the Prefect server
        (`prefect.worker.submitted-flow-run`, written by the server a moment later): waits until every run is
        named, or until `enough` says so (a killed worker's last events may never reach the server)."""
        wanted, found = set(ids), {}

        def read() -> bool:
            page = self._post("/events/filter", {
                "filter": {"event": {"name": ["prefect.worker.submitted-flow-run"]}}, "limit": 50})
            events = list(page.get("events", []))
            while page.get("next_page"):
                response = self.api.get(page["next_page"])
                response.raise_for_status()
                page = response.json()
                events += page.get("events", [])
            for event in events:
                worker = event["resource"].get("prefect.resource.name")
                for related in event.get("related", []):
                    run_id = related["prefect.resource.id"].removeprefix("prefect.flow-run.")
                    if related.get("prefect.resource.role") == "flow-run" and run_id in wanted:
                        found[run_id] = worker
            return enough(found) if enough else wanted <= set(found)

        wait_until(read, timeout, "the workers' submitted-flow-run events", poll=1.0)
        return found

    def passes_until_settled(self, worker_count: int, max_rounds: int = 8) -> list[str]:
        """Engine passes (flow runs of the watchdog deployment), `worker_count` at a time, until no message is left
        unsettled; a claim left by a killed pass is due again once its lease has run out, so a round that leaves
        messages waits for the leases before the next. Returns the flow runs created."""
        created: list[str] = []
        for _ in range(max_rounds):
            ids = self.trigger(count=worker_count)
            created += ids
            self.wait_runs_final(ids)
            if not unsettled_messages():
                return created
            wait_until(claims_expired, self.lease_seconds * 4, "the claims' leases to run out", poll=0.2)
        raise TimeoutError(f"messages still unsettled after {max_rounds} rounds of passes")

    def close(self) -> None:
        self.api.close()


def claims_expired() -> bool:
    """No message is held by a claim whose lease is still running."""
    now = pendulum.now("UTC")
    with session_scope() as session:
        held = session.exec(select(OutboxMessage.claimed_until).where(
            col(OutboxMessage.status) == MessageStatus.SENDING)).all()
    return all(until is None or pendulum.instance(until) <= now for until in held)


def _wait_healthy(api_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    def healthy() -> bool:
        if server.poll() is not None:
            raise RuntimeError(f"the Prefect server stopped at start ({server.returncode}): see {log}")
        try:
            return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, SERVER_STARTUP_TIMEOUT, f"the Prefect server at {api_url}", poll=0.5)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def distributed(postgres: str | None = None, workers: int = 2, relay_delay: float = 0.0,
                lease_seconds: int = LEASE_SECONDS, worker_limit: int = 1) -> Iterator[Cluster]:
    """The whole set-up on a PostgreSQL server (`postgres`, else one started from its binaries): the store in a
    fresh database, Prefect's server on another database of the same server, the work pool, the deployments of
    prefect.yaml, and `workers` process workers running at most `worker_limit` flow runs each, their mail going to
    a recording relay answering each DATA after `relay_delay` seconds. Everything is stopped and removed at exit."""
    with ExitStack() as stack:
        server_url = stack.enter_context(postgres_or_server(postgres))
        relay = stack.enter_context(Relay("distributed", free_port(), delay=relay_delay))
        store = stack.enter_context(fresh_store(server_url, **relay_env(relay, lease_seconds=lease_seconds)))
        prefect_url = stack.enter_context(prefect_database(server_url))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="trial-prefect-")))
        port = free_port()
        api_url = f"http://127.0.0.1:{port}/api"
        prefect_env = {
            "PREFECT_HOME": str(folder / "home"), "PREFECT_API_URL": api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
            "PREFECT_CLI_PROMPT": "false",
            "PREFECT_WORKER_QUERY_SECONDS": "2",  # a flow run waits a worker's poll: 10 s by default
            "INCIDENTS_PROJECT_DIR": str(ROOT),
        }
        stack.enter_context(environment(**prefect_env))
        env = dict(os.environ)
        server_log = folder / "server.log"
        server_env = {**env, "PREFECT_API_DATABASE_CONNECTION_URL": prefect_url}
        server_env.pop("PREFECT_API_URL")
        with server_log.open("wb") as log:
            server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port",
                                       str(port)], cwd=folder, env=server_env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        stack.callback(_stop, server)
        _wait_healthy(api_url, server, server_log)
        cluster = Cluster(api_url, store, relay, [], env, folder, lease_seconds)
        stack.callback(cluster.close)
        cluster.prefect("work-pool", "create", POOL, "--type", "process")
        for index in range(1, workers + 1):  # they start (imports) while the deployments are made
            worker = Worker(f"worker-{index}", env, folder, worker_limit)
            cluster.workers.append(worker)
            stack.callback(worker.stop)
        deployed = cluster.prefect("deploy", "--all")
        (folder / "deploy.log").write_text(deployed.stdout + deployed.stderr, encoding="utf-8")
        wait_until(lambda: _workers_online(cluster), SERVER_STARTUP_TIMEOUT, "the workers to poll the pool", poll=1)
        yield cluster


def _workers_online(cluster: Cluster) -> bool:
    for worker in cluster.workers:
        if not worker.running:
            raise RuntimeError(f"{worker.name} stopped at start: see {worker.log}")
    online = cluster._post(f"/work_pools/{POOL}/workers/filter", {})
    return {worker.name for worker in cluster.workers} <= {row["name"] for row in online}


@dataclass(frozen=True)
class Claim:
    token: str | None
    claimed_until: Any
    attempts: int


def claims() -> dict[int, Claim]:
    """Messages being sent (claimed), by id: the claim's token, its lease and the message's attempts."""
    with session_scope() as session:
        rows = session.exec(select(OutboxMessage.id, OutboxMessage.claim_token, OutboxMessage.claimed_until,
                                   OutboxMessage.attempts).where(
            col(OutboxMessage.status) == MessageStatus.SENDING)).all()
    return {message_id: Claim(token, until, attempts) for message_id, token, until, attempts in rows if message_id}


def dead_claims(at_kill: dict[int, Claim], later: dict[int, Claim]) -> dict[int, Claim]:
    """The claims of passes that died: held at the kill and, half a lease later, held still by the same token with
    the same lease. A live pass renews its claims every quarter lease (or records them as sent)."""
    tokens: dict[str | None, bool] = {}
    for message_id, claim in at_kill.items():
        unchanged = later.get(message_id) == claim
        tokens[claim.token] = tokens.get(claim.token, True) and unchanged
    return {message_id: claim for message_id, claim in at_kill.items() if tokens[claim.token]}


@dataclass
class DistributedCounts:
    declarations: int = 0
    messages: int = 0  # stored after the first part
    received_once: int = 0  # of these, received exactly once
    unexpected: int = 0  # receptions of a Message-ID the store does not hold, or beyond the first, first part
    unsent: int = 0  # not marked sent in the store after the first part
    runs_by_worker: dict[str, int] = field(default_factory=dict)
    chain_verified: bool = False
    workers_in_status: tuple[int, int] = (0, 0)  # `incidents status`: the pool's workers online, and in all
    handed_over: int = 0  # declarations by `incidents declare` handed over to the `intake` deployment
    intake_runs: int = 0  # flow runs of the `intake` deployment
    first_seconds: float = 0.0
    burst: int = 0
    burst_messages: int = 0
    killed_processes: int = 0  # the killed worker's processes: itself and its flow run's
    received_at_kill: int = 0  # of the burst's messages, when the worker was killed
    in_flight: int = 0  # the killed worker's messages whose attempt had begun, not recorded as sent
    claimed_by_killed: int = 0  # all the messages it held claims on (attempt begun or not)
    lost: int = 0  # after the survivor's passes, over both parts
    duplicates: int = 0  # receptions beyond the first, over both parts
    survivor_runs: int = 0  # flow runs on the surviving worker after the kill, until every message was sent
    scheduled_runs: int = 0  # flow runs the deployments' schedules made meanwhile (the watchdog's, every 5 min)
    chain_verified_after: bool = False
    second_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        both_ran = len([worker for worker, runs in self.runs_by_worker.items() if runs > 0]) >= 2
        return (not self.problems and 0 < self.handed_over == self.intake_runs and both_ran
                and self.received_once == self.messages > 0 and self.unexpected == 0 and self.unsent == 0
                and self.chain_verified and self.killed_processes >= 2 and self.lost == 0
                and self.duplicates <= self.in_flight and self.chain_verified_after)

    def lines(self) -> list[str]:
        runs = ", ".join(f"{worker} {count}" for worker, count in sorted(self.runs_by_worker.items()))
        return [f"déclarations : {self.declarations}, messages : {self.messages}",
                f"déclarations par `incidents declare` confiées au déploiement intake : {self.handed_over} "
                f"({self.intake_runs} flow runs intake)",
                f"reçus exactement une fois : {self.received_once}",
                f"réceptions inattendues (doublons, inconnus ; doit être 0) : {self.unexpected}",
                f"non envoyés selon le registre (doit être 0) : {self.unsent}",
                f"flow runs par worker : {runs}",
                f"chaîne vérifiée (incidents verify) : {'oui' if self.chain_verified else 'NON'}",
                f"workers en ligne selon incidents status : {self.workers_in_status[0]} sur "
                f"{self.workers_in_status[1]}",
                f"durée de la première partie : {self.first_seconds:.1f} s",
                f"rafale : {self.burst} déclarations, {self.burst_messages} messages",
                f"worker tué (SIGKILL, {self.killed_processes} processus) après {self.received_at_kill} messages "
                f"de la rafale reçus",
                f"messages en cours d'envoi par le worker tué : {self.in_flight} "
                f"(réservés par lui : {self.claimed_by_killed})",
                f"doublons (Message-ID reçu plus d'une fois ; au plus {self.in_flight}) : {self.duplicates}",
                f"messages perdus (doit être 0) : {self.lost}",
                f"flow runs du worker survivant après la mise à mort : {self.survivor_runs}",
                f"chaîne vérifiée après la rafale : {'oui' if self.chain_verified_after else 'NON'}",
                f"flow runs programmés par les déploiements pendant l'essai : {self.scheduled_runs}",
                f"durée de la rafale : {self.second_seconds:.1f} s",
                *[f"problème : {problem}" for problem in self.problems]]


def run(size: int = 200, burst: int = 100, postgres: str | None = None, delay: float = 0.1) -> DistributedCounts:
    counts = DistributedCounts()
    with distributed(postgres) as cluster:
        first_part(cluster, size, counts)
        second_part(cluster, burst, delay, counts)
    return counts


def declare_by_command(cluster: Cluster, index: int, now: pendulum.DateTime) -> subprocess.Popen[str]:
    """One declaration by a commune's referent with `incidents declare --json`, as a user does: it hands the
    intake over to the `intake` deployment when a worker polls the pool (the incident's id only)."""
    commune = COMMUNES[index % len(COMMUNES)]
    path = cluster.folder / f"declaration-{index}.json"
    path.write_text(json.dumps({
        "title": f"Messagerie de l'ENT indisponible ({index})",
        "description": "Le prestataire de l'ENT signale une panne de la messagerie.",
        "declared_by": "municipality", "municipality": commune,
        "reporter": {"name": "Référent ENT", "email": "referent@example.org"},
        "aware_at": (now - AWARE_BEFORE).isoformat(), "categories": ["vendor"], "personal_data": "no"}),
        encoding="utf-8")
    return subprocess.Popen([str(BIN / "incidents"), "declare", str(path), "--json", "--by", REFERENTS[commune]],
                            cwd=ROOT, env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def first_part(cluster: Cluster, size: int, counts: DistributedCounts, by_command: int = 2) -> None:
    """`size` declarations, `by_command` of them with `incidents declare` (each handing its intake over to the
    `intake` deployment), the others through the door meanwhile; then engine passes on both workers until every
    message is sent."""
    started = time.monotonic()
    commands = [declare_by_command(cluster, index, pendulum.now("UTC")) for index in range(by_command)]
    counts.declarations = len(declare(size - by_command, pendulum.now("UTC"), start=by_command))
    for command in commands:
        stdout, stderr = command.communicate(timeout=RUN_TIMEOUT)
        if command.returncode != 0:
            counts.problems.append(f"incidents declare ({command.returncode}) : {stderr.strip()}")
            continue
        counts.declarations += 1
        counts.handed_over += json.loads(stdout)["orchestration"] == "triggered"
    intake = [run["id"] for run in cluster._post("/flow_runs/filter", {
        "deployments": {"name": {"any_": ["intake"]}}, "limit": 200})]
    counts.intake_runs = len(intake)
    runs = cluster.passes_until_settled(len(cluster.workers))
    cluster.wait_runs_final(intake)
    runs += intake
    counts.first_seconds = time.monotonic() - started
    stored, arrivals = stored_messages(), cluster.relay.arrivals()
    received: dict[str, int] = {}
    for arrival in arrivals:
        received[arrival.message_id] = received.get(arrival.message_id, 0) + 1
    counts.messages = len(stored)
    counts.received_once = sum(1 for message in stored if received.get(message.message_id) == 1)
    counts.unexpected = len(arrivals) - counts.received_once
    counts.unsent = sum(1 for message in stored if message.status != "sent")
    runners = cluster.runners(runs)
    counts.runs_by_worker = {worker.name: list(runners.values()).count(worker.name) for worker in cluster.workers}
    counts.chain_verified = _verified(cluster, counts)
    counts.workers_in_status = _workers_in_status(cluster, counts)


def _workers_in_status(cluster: Cluster, counts: DistributedCounts) -> tuple[int, int]:
    done = cluster.incidents("status", "--json", "--by", VERIFIER)
    if done.returncode not in (0, 3):
        counts.problems.append(f"incidents status ({done.returncode}) : {done.stderr.strip()}")
        return (0, 0)
    engine = json.loads(done.stdout)["service"]["engine"] or {}
    return (int(engine.get("workers_online", 0)), int(engine.get("workers", 0)))


def second_part(cluster: Cluster, burst: int, delay: float, counts: DistributedCounts) -> None:
    """A burst with a slow relay (slower still until both workers deliver it); once both are delivering it, the
    first is killed; the survivor's passes then deliver everything, the killed one's claims once their lease has
    run out."""
    relay, (victim, survivor) = cluster.relay, cluster.workers[:2]
    relay.delay = max(delay, WAITING_DELAY)
    started, before = time.monotonic(), relay.accepted
    counts.burst = len(declare(burst, pendulum.now("UTC"), start=counts.declarations))
    counts.burst_messages = len(stored_messages()) - counts.messages
    runs = cluster.trigger(count=2)

    def both_delivering() -> bool:
        tokens = {claim.token for claim in claims().values()}
        return (len(tokens) >= 2 and bool(victim.flow_run_processes()) and bool(survivor.flow_run_processes())
                and relay.accepted >= before + 5)

    wait_until(both_delivering, RUN_TIMEOUT, "both workers delivering the burst", poll=0.05)
    relay.delay = delay
    counts.killed_processes = victim.kill()
    at_kill = claims()
    counts.received_at_kill = relay.accepted - before
    half_lease = time.monotonic() + cluster.lease_seconds / 2
    wait_until(lambda: time.monotonic() >= half_lease, cluster.lease_seconds, "half a lease", poll=0.1)
    dead = dead_claims(at_kill, claims())
    counts.claimed_by_killed = len(dead)
    counts.in_flight = sum(1 for claim in dead.values() if claim.attempts > 0)
    runners = cluster.runners(runs, enough=lambda found: survivor.name in found.values())
    survivor_runs = [run_id for run_id, worker in runners.items() if worker == survivor.name]
    cluster.wait_runs_final(survivor_runs)
    wait_until(claims_expired, cluster.lease_seconds * 4, "the killed worker's claims to run out", poll=0.2)
    counts.survivor_runs = len(survivor_runs)
    if unsettled_messages():
        counts.survivor_runs += len(cluster.passes_until_settled(1))
    counts.second_seconds = time.monotonic() - started
    relay.wait_idle(timeout=60)
    stored, arrivals = stored_messages(), relay.arrivals()
    counts.lost = len(lost(stored, arrivals))
    counts.duplicates = sum(duplicates(arrivals).values())
    counts.chain_verified_after = _verified(cluster, counts)
    counts.scheduled_runs = sum(1 for run in cluster._post("/flow_runs/filter", {"flow_runs": {
        "state": {"type": {"not_any_": ["SCHEDULED"]}}}, "limit": 200}) if run.get("auto_scheduled"))


def _verified(cluster: Cluster, counts: DistributedCounts) -> bool:
    done = cluster.incidents("verify", "--by", VERIFIER)
    if done.returncode != 0:
        counts.problems.append(f"incidents verify ({done.returncode}) : {done.stdout.strip()} {done.stderr.strip()}")
    return done.returncode == 0


def main() -> int:
    arguments = trial_arguments(__doc__ or "", 200, "declarations of the first part (three mails each)")
    arguments.add_argument("--burst", type=int, default=100, help="declarations of the burst (default 100)")
    arguments.add_argument("--delay", type=float, default=0.1,
                           help="seconds the relay takes per DATA during the burst (default 0.1)")
    options = arguments.parse_args()
    return report(run(options.size, options.burst, options.postgres, options.delay))


if __name__ == "__main__":
    sys.exit(main())
