"""The burst's raw baseline: the same work as benchmarks/burst.py with no ORM, no door and no Prefect — sqlite3,
Jinja2 and aiosmtplib called directly, as a small script written for this one job would do it.

For each declaration, one transaction: the incident row, its two alert messages and the académie's receipt queued in
an outbox table, and one timeline entry chained by SHA-256. Then every message in turn: rendered from a Jinja2
template of the same size and shape as the engine's alert (subject, text and HTML parts, a calendar event),
built as a MIME message, sent over one SMTP connection, and recorded (status, Message-ID, a chained timeline entry)
in its own transaction. What it leaves out is what the engine adds on top: roles and parties checked, scope rules,
deadlines and their steps, claims and leases for concurrent passes, retries and escalations.
"""

import asyncio
import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import aiosmtplib
import jinja2
import pendulum

SCHEMA = """
CREATE TABLE incident (id INTEGER PRIMARY KEY, ref TEXT UNIQUE, title TEXT, description TEXT, commune TEXT,
                       aware_at TEXT, declared_at TEXT, due_at TEXT);
CREATE TABLE outbox (id INTEGER PRIMARY KEY, incident_id INTEGER REFERENCES incident(id), recipient TEXT,
                     name TEXT, template TEXT, status TEXT DEFAULT 'pending', message_id TEXT, sent_at TEXT);
CREATE INDEX outbox_status ON outbox(status);
CREATE TABLE timeline (id INTEGER PRIMARY KEY, incident_id INTEGER, kind TEXT, payload TEXT, previous TEXT,
                       hash TEXT);
"""

TEXT = jinja2.Template("""Bonjour {{ name }},

La commune {{ commune }} vous alerte d'un incident de sécurité de l'ENT, au titre de l'article 4 de la convention.

Référence : {{ ref }}
Intitulé : {{ title }}
Prise de connaissance : {{ aware_at }}
Déclaré le : {{ declared_at }}

{{ description }}

Ce que nous vous demandons :
{% for action in actions %}  - {{ action }}
{% endfor %}
Vos échéances :
{% for deadline in deadlines %}  - {{ deadline.label }} : avant le {{ deadline.due }}
{% endfor %}
Répondez à ce message pour joindre la commune. Accusez réception de cette alerte dans les {{ hours }} heures.

-- 
Incidents ENT – Académie de Nancy-Metz
""")
HTML = jinja2.Template("""<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{{ ref }}</title></head>
<body style="font-family: Marianne, Arial, sans-serif">
<p>Bonjour {{ name }},</p>
<p>La commune <strong>{{ commune }}</strong> vous alerte d'un incident de sécurité de l'ENT, au titre de l'article 4
de la convention.</p>
<table><tr><th>Référence</th><td>{{ ref }}</td></tr><tr><th>Intitulé</th><td>{{ title }}</td></tr>
<tr><th>Prise de connaissance</th><td>{{ aware_at }}</td></tr><tr><th>Déclaré le</th><td>{{ declared_at }}</td></tr>
</table>
<p>{{ description }}</p>
<h2>Ce que nous vous demandons</h2><ul>{% for action in actions %}<li>{{ action }}</li>{% endfor %}</ul>
<h2>Vos échéances</h2><ul>{% for deadline in deadlines %}<li>{{ deadline.label }} : avant le
{{ deadline.due }}</li>{% endfor %}</ul>
<p>Répondez à ce message pour joindre la commune. Accusez réception de cette alerte dans les {{ hours }} heures.</p>
<footer><p>Incidents ENT – Académie de Nancy-Metz</p></footer></body></html>
""", autoescape=True)
ACTIONS = ["accuser réception de cette alerte", "arrêter la portée de l'incident",
           "prévenir le DPD si des données personnelles sont concernées"]
ICS = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//baseline//FR\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n"
       "DTSTAMP:{stamp}\r\nDTSTART:{due}\r\nSUMMARY:[{ref}] Échéance\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


@dataclass(frozen=True)
class Declared:
    title: str
    description: str
    commune: str
    aware_at: pendulum.DateTime


def connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


def chain(connection: sqlite3.Connection, incident_id: int, kind: str, payload: dict[str, object]) -> None:
    previous = connection.execute("SELECT hash FROM timeline ORDER BY id DESC LIMIT 1").fetchone()
    previous_hash = previous[0] if previous else "0" * 64
    body = json.dumps({"incident": incident_id, "kind": kind, "payload": payload, "previous": previous_hash},
                      sort_keys=True, ensure_ascii=False)
    connection.execute("INSERT INTO timeline (incident_id, kind, payload, previous, hash) VALUES (?, ?, ?, ?, ?)",
                       (incident_id, kind, json.dumps(payload, ensure_ascii=False), previous_hash,
                        hashlib.sha256(body.encode()).hexdigest()))


def accept(connection: sqlite3.Connection, declarations: list[Declared], recipients: list[tuple[str, str]],
           declarant: tuple[str, str], now: pendulum.DateTime) -> None:
    for index, declared in enumerate(declarations, start=1):
        connection.execute("BEGIN IMMEDIATE")
        ref = f"INC-2026-{index:04d}"
        cursor = connection.execute(
            "INSERT INTO incident (ref, title, description, commune, aware_at, declared_at, due_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (ref, declared.title, declared.description, declared.commune, declared.aware_at.isoformat(),
             now.isoformat(), declared.aware_at.add(hours=48).isoformat()))
        incident_id = int(cursor.lastrowid or 0)
        for email, name in recipients:
            connection.execute("INSERT INTO outbox (incident_id, recipient, name, template) VALUES (?, ?, ?, ?)",
                               (incident_id, email, name, "alert"))
        connection.execute("INSERT INTO outbox (incident_id, recipient, name, template) VALUES (?, ?, ?, ?)",
                           (incident_id, declarant[0], declarant[1], "receipt"))
        chain(connection, incident_id, "declared", {"ref": ref, "title": declared.title})
        connection.execute("COMMIT")


async def deliver(connection: sqlite3.Connection, host: str, port: int, now: pendulum.DateTime) -> int:
    rows = connection.execute(
        "SELECT outbox.id, incident.id, ref, title, description, commune, aware_at, declared_at, due_at, recipient, "
        "name FROM outbox JOIN incident ON incident.id = outbox.incident_id WHERE status = 'pending' "
        "ORDER BY outbox.id").fetchall()
    sent = 0
    async with aiosmtplib.SMTP(hostname=host, port=port) as client:
        for (message_id, incident_id, ref, title, description, commune, aware_at, declared_at, due_at, recipient,
             name) in rows:
            context = {"name": name, "commune": commune, "ref": ref, "title": title, "description": description,
                       "aware_at": aware_at, "declared_at": declared_at, "actions": ACTIONS, "hours": 24,
                       "deadlines": [{"label": "accuser réception", "due": due_at}]}
            email = EmailMessage()
            email["From"] = Address("Incidents ENT", addr_spec="incidents@ac-nancy-metz.example.org")
            email["To"] = Address(name, addr_spec=recipient)
            email["Subject"] = f"[{ref}] Alerte : {title}"
            email["Message-ID"] = make_msgid(domain="ac-nancy-metz.example.org")
            email["Date"] = format_datetime(now)
            email.set_content(TEXT.render(context))
            email.add_alternative(HTML.render(context), subtype="html")
            stamp = now.format("YYYYMMDDTHHmmss") + "Z"
            email.add_attachment(ICS.format(uid=f"{ref}-{message_id}", stamp=stamp, due=stamp, ref=ref),
                                 subtype="calendar", filename="echeance.ics")
            await client.send_message(email)
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("UPDATE outbox SET status = 'sent', message_id = ?, sent_at = ? WHERE id = ?",
                               (email["Message-ID"], pendulum.now("UTC").isoformat(), message_id))
            chain(connection, incident_id, "delivered", {"recipient": recipient, "message_id": email["Message-ID"]})
            connection.execute("COMMIT")
            sent += 1
    return sent


def burst(folder: Path, declarations: list[Declared], recipients: list[tuple[str, str]],
          declarant: tuple[str, str], host: str, port: int, now: pendulum.DateTime) -> tuple[float, float, int]:
    """Accept the declarations, then deliver every message; (seconds accepting, seconds in all, messages sent)."""
    folder.mkdir(parents=True, exist_ok=True)
    connection = connect(folder / "raw.db")
    connection.executescript(SCHEMA)
    started = time.perf_counter()
    accept(connection, declarations, recipients, declarant, now)
    accepted = time.perf_counter() - started
    sent = asyncio.run(deliver(connection, host, port, now))
    connection.close()
    return accepted, time.perf_counter() - started, sent
