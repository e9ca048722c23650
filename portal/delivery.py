"""Work the portal starts after answering: a sign-in link must leave now, not at the next engine pass; a
declaration is handed to the service (or done here when none runs), as `incidents declare` does."""

import asyncio
import logging
import threading

import pendulum

from models.commands import RequestSignIn
from settings.parties import Person, load_parties

log = logging.getLogger("portal")
_lock = threading.Lock()
_again = threading.Event()
_running = False


def deliver_soon() -> None:
    """Deliver what is due, in a background thread; a request made while one runs makes it run once more."""
    global _running
    with _lock:
        if _running:
            _again.set()
            return
        _running = True
    threading.Thread(target=_deliver_until_quiet, name="portal-delivery", daemon=True).start()


def _deliver_until_quiet() -> None:
    global _running
    from notifications.delivery import deliver

    try:
        _again.clear()
        asyncio.run(deliver(load_parties(), pendulum.now("UTC")))
    except Exception as error:  # noqa: BLE001 - the messages stay queued for the engine's next pass
        log.warning("Remise différée à la prochaine passe du moteur (%s).", type(error).__name__)
    finally:
        with _lock:
            _running = False
        if _again.is_set():  # asked again while this pass ran: what was queued meanwhile leaves now
            deliver_soon()


def hand_over_soon(flow_name: str, incident_id: int, ref: str) -> None:
    """Intake (scope, alert) or dispatch (reports, drafts) of one incident, in a background thread."""
    from cli.orchestration import hand_over

    def work() -> None:
        try:
            hand_over(flow_name, incident_id, ref, None)
        except Exception as error:  # noqa: BLE001 - the incident stays queued; the engine's pass takes it
            log.warning("Prise en charge de l'incident %s différée (%s).", incident_id, type(error).__name__)

    threading.Thread(target=work, name=f"portal-{flow_name}", daemon=True).start()


def request_link(command: RequestSignIn, person: Person) -> None:
    """A sign-in link through the door (run after the answer has left), then out through the outbox."""
    from models.door import run

    try:
        run(command, person, pendulum.now("UTC"))
    except Exception as error:  # noqa: BLE001 - the person asks again; nothing half-written
        log.warning("Lien de connexion non enregistré (%s).", type(error).__name__)
        return
    deliver_soon()
