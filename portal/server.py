"""Serving the portal with uvicorn: in a thread beside Prefect's runner (`incidents serve`), or alone
(`incidents portal`, for a machine that only shows the portal)."""

import os
import threading

import uvicorn

from settings.env import portal_url, trusted_proxies

HOST = "127.0.0.1"


def config(port: int, host: str = HOST) -> uvicorn.Config:
    from portal.app import create_app

    os.environ["INCIDENTS_PORTAL_PORT"] = str(port)  # the links this process mails (and its flows') point here
    # No access log: a path names an incident's reference, a sign-in link its token.
    front = trusted_proxies()
    return uvicorn.Config(create_app(), host=host, port=port, log_level="warning", access_log=False,
                          proxy_headers=bool(front), forwarded_allow_ips=front or None, server_header=False,
                          date_header=True)


def start_in_thread(port: int, host: str = HOST) -> uvicorn.Server:
    """The portal in a daemon thread of this process; ready (listening) when this returns."""
    server = uvicorn.Server(config(port, host))
    thread = threading.Thread(target=server.run, name="portal", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise SystemExit(f"Le portail n'a pas pu démarrer sur le port {port} (déjà utilisé ?).")
        thread.join(0.05)
    return server


def address(port: int) -> str:
    return portal_url(port)
