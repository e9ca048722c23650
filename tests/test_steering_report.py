"""Steering-committee report on a seeded data set built through the real commands: every figure equals an
independent recomputation from the store (plain SQL on the SQLite file, Python's zoneinfo for months)."""

import json
import sqlite3
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from tests.conftest import Cli
from tests.seed import module_store, seed, use_store

START, END = "2026-09-30 22:00:00", "2026-11-15 23:00:00"  # 1 Oct 00:00 and 16 Nov 00:00, Paris time, in UTC
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture(scope="module")
def seeded_store(prefect_api, tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeded")
    with module_store(folder):
        seeded = seed(Cli(CliRunner()), folder)
    return folder, seeded


@pytest.fixture
def seeded(seeded_store, monkeypatch):
    folder, seeded = seeded_store
    use_store(monkeypatch, folder)
    return folder, seeded


def rows(folder, sql, *params):
    with sqlite3.connect(folder / "incidents.db") as connection:
        return connection.execute(sql, params).fetchall()


def utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("UTC"))


KEPT = "(i.dismissed_at IS NULL OR i.dismissed_at >= '" + END + "')"  # dismissed declarations are counted apart
SCOPES = ("academy", "shared", "municipality", "pending")


def clock_counts(folder, kind):
    """Independent recomputation of on time / late / overdue / pending / not required, for one obligation kind."""
    found = rows(folder, f"""
        SELECT o.met_at, o.due_at, o.waived_at FROM obligation o JOIN incident i ON i.id = o.incident_id
        WHERE o.kind = ? AND i.declared_at >= ? AND i.declared_at < ? AND {KEPT}""", kind, START, END)
    counts = Counter()
    for met, due, waived in found:
        if waived is not None and waived < END:
            counts["not_required"] += 1
        elif met is not None and met < END:
            counts["on_time" if met <= due else "late"] += 1
        else:
            counts["overdue" if due <= END else "pending"] += 1
    return {key: counts[key] for key in ("on_time", "late", "overdue", "pending", "not_required")} | {
        "total": len(found)}


def test_every_figure_equals_an_independent_recomputation_from_the_store(seeded, plain_cli):
    folder, seeded_set = seeded
    result = plain_cli("report", "steering", "--from", "2026-10-01", "--to", "2026-11-15", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)

    in_period = rows(folder, "SELECT id, ref, declared_at, COALESCE(confirmed_scope, proposed_scope, 'pending'), "
                             "categories, municipality_insee, dismissed_at FROM incident "
                             "WHERE declared_at >= ? AND declared_at < ?", START, END)
    dismissed = [row for row in in_period if row[6] is not None and row[6] < END]
    kept = [row for row in in_period if row not in dismissed]
    assert len(seeded_set.refs) == 24 and report["declarations"] == len(in_period) == 21
    assert (report["incidents"], report["dismissed"]) == (len(kept), len(dismissed)) and dismissed
    assert report["dismissed_refs"] == [row[1] for row in dismissed]
    assert report["by_scope"] == {scope: sum(1 for row in kept if row[3] == scope) for scope in SCOPES}
    assert report["by_category"] == dict(sorted(Counter(c for row in kept for c in json.loads(row[4])).items()))
    assert {k: v["incidents"] for k, v in report["by_commune"].items()} == dict(Counter(row[5] for row in kept))
    months = Counter((utc(row[2]).astimezone(PARIS).strftime("%Y-%m"), row[3]) for row in kept)
    assert list(report["by_month"]) == ["2026-10", "2026-11"]
    assert {(m, s): n for m, month in report["by_month"].items() for s, n in month["by_scope"].items() if n} == dict(
        months)
    assert {m: month["dismissed"] for m, month in report["by_month"].items()} == {m: sum(
        1 for row in dismissed if utc(row[2]).astimezone(PARIS).strftime("%Y-%m") == m) for m in ("2026-10", "2026-11")}

    alerts = clock_counts(folder, "cross_party_alert")
    assert {k: report["alerts"][k] for k in alerts} == alerts
    assert alerts["late"] > 0 and alerts["on_time"] > 0
    assert report["alerts"]["on_time_share"] == round(alerts["on_time"] / alerts["total"], 4)
    hours = sorted(round(r[0], 2) for r in rows(folder, f"""
        SELECT (julianday(o.met_at) - julianday(o.anchor_at)) * 24 FROM obligation o JOIN incident i
        ON i.id = o.incident_id WHERE o.kind = 'cross_party_alert' AND o.met_at IS NOT NULL AND o.met_at < ?
        AND i.declared_at >= ? AND i.declared_at < ? AND {KEPT}""", END, START, END))
    assert report["alerts"]["time_to_alert_hours"] == pytest.approx(hours, abs=0.011)
    assert report["alerts"]["distribution"]["> 48 h"] == sum(1 for h in hours if h >= 48)

    decisions = rows(folder, f"""SELECT d.notify_cnil, d.against_recommendation, d.subjects FROM breach_decision d
        JOIN incident i ON i.id = d.incident_id WHERE i.declared_at >= ? AND i.declared_at < ? AND d.decided_at < ?
        AND {KEPT}""",
                     START, END, END)
    assert (report["cnil"]["decisions"], report["cnil"]["notify"], report["cnil"]["not_notify"]) == (
        len(decisions), sum(d[0] for d in decisions), sum(1 - d[0] for d in decisions))
    assert report["cnil"]["against_recommendation"] == sum(d[1] for d in decisions)
    filings = rows(folder, f"""SELECT i.ref, (julianday(f.filed_at) - julianday(o.due_at)) * 86400 FROM cnil_filing f
        JOIN incident i ON i.id = f.incident_id JOIN obligation o ON o.incident_id = i.id
        AND o.kind = 'cnil_notification' WHERE f.complementary = 0 AND f.filed_at < ?
        AND i.declared_at >= ? AND i.declared_at < ? AND {KEPT}""", END, START, END)
    late = sorted((ref, round(seconds)) for ref, seconds in filings if seconds > 0)
    assert sorted((f["ref"], f["late_by_seconds"]) for f in report["cnil"]["filings_late"]) == late
    assert report["cnil"]["filings_on_time"] == len(filings) - len(late)
    assert report["cnil"]["filings_on_time"] > 0 and report["cnil"]["not_notify"] > 0
    # The seeded late filing belongs to a declaration dismissed since: it is in no figure of the report.
    late_dismissed = rows(folder, """SELECT i.ref FROM cnil_filing f JOIN incident i ON i.id = f.incident_id
        JOIN obligation o ON o.incident_id = i.id AND o.kind = 'cnil_notification' WHERE f.complementary = 0
        AND f.filed_at > o.due_at AND i.declared_at >= ? AND i.declared_at < ? AND i.dismissed_at < ?""",
                          START, END, END)
    assert late_dismissed and not late and {r[0] for r in late_dismissed} <= set(report["dismissed_refs"])
    assert report["subjects"] == {"decided": sum(1 for d in decisions if d[2] == "yes"), "informed": len(rows(
        folder, f"""SELECT DISTINCT n.incident_id FROM subjects_notice n JOIN incident i ON i.id = n.incident_id
        WHERE n.informed_at < ? AND i.declared_at >= ? AND i.declared_at < ? AND {KEPT}""", END, START, END))}

    still_open = rows(folder, """SELECT ref FROM incident WHERE declared_at < ?
        AND (closed_at IS NULL OR closed_at >= ?) AND (dismissed_at IS NULL OR dismissed_at >= ?)""", END, END, END)
    assert report["open_at_end"] == sorted(r[0] for r in still_open)
    overdue = rows(folder, """SELECT i.ref, o.kind FROM obligation o JOIN incident i ON i.id = o.incident_id
        WHERE i.declared_at < ? AND (i.closed_at IS NULL OR i.closed_at >= ?) AND (i.dismissed_at IS NULL
        OR i.dismissed_at >= ?) AND o.due_at <= ? AND (o.met_at IS NULL OR o.met_at >= ?)
        AND (o.waived_at IS NULL OR o.waived_at >= ?)""", END, END, END, END, END, END)
    assert [(o["ref"], o["kind"]) for o in report["overdue_at_end"]] == sorted(overdue)
    for kind, counts in report["on_time_by_kind"].items():
        expected = clock_counts(folder, kind)
        assert {k: counts[k] for k in expected} == expected
        judged = expected["on_time"] + expected["late"] + expected["overdue"]
        assert counts["share"] == (round(expected["on_time"] / judged, 4) if judged else None)


def test_markdown_and_html_reports_carry_the_figures_and_charts(seeded, plain_cli):
    html = plain_cli("report", "steering", "--from", "2026-10-01", "--to", "2026-11-15").stdout
    assert html.count("<svg") == 3
    for chart in ("chart-per-month", "chart-time-to-alert", "chart-on-time"):
        assert f'id="{chart}"' in html
    assert "48 h (Art. 4.1)" in html
    markdown = plain_cli("report", "steering", "--from", "2026-10-01", "--to", "2026-11-15", "--format", "md").stdout
    assert "| Déclarations reçues | 21 |" in markdown
    assert "| octobre 2026 |" in markdown and "| novembre 2026 |" in markdown


def test_a_bad_period_is_refused_naming_the_field(plain_cli):
    result = plain_cli("report", "steering", "--from", "2026-11-15", "--to", "2026-10-01")
    assert result.exit_code == 2 and "« --to »" in result.stderr
    result = plain_cli("report", "steering", "--from", "octobre", "--to", "2026-10-01")
    assert result.exit_code == 2 and "champ « --from » : doit être une date AAAA-MM-JJ" in result.stderr


ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"  # Debian's package; .ci/run installs it


def render_in_chromium(html_path, png_path):
    """Open a page in headless Chromium, keep a PNG of it; return console errors and the charts' sizes."""
    from playwright.sync_api import sync_playwright

    errors = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(html_path.as_uri())
        page.screenshot(path=str(png_path), full_page=True)
        charts = page.eval_on_selector_all(".chart svg", "nodes => nodes.map(n => [n.getBoundingClientRect().width, "
                                                          "n.getBoundingClientRect().height])")
        browser.close()
    return errors, charts


@pytest.mark.slow
def test_report_timeline_and_audit_render_in_headless_chromium(seeded, plain_cli):
    ARTIFACTS.mkdir(exist_ok=True)
    ref = rows(seeded[0], "SELECT i.ref FROM cnil_filing f JOIN incident i ON i.id = f.incident_id "
                               "ORDER BY f.filed_at DESC LIMIT 1")[0][0]
    pages = {
        "steering": ("report", "steering", "--from", "2026-10-01", "--to", "2026-11-15"),
        "timeline": ("timeline", ref, "--format", "html"),
        "audit": ("audit", ref, "--format", "html"),
    }
    for name, command in pages.items():
        html = ARTIFACTS / f"{name}.html"
        assert plain_cli(*command, "--output", str(html)).exit_code == 0
        errors, charts = render_in_chromium(html, ARTIFACTS / f"{name}.png")
        assert errors == [], (name, errors)
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 20_000
        if name == "steering":
            assert len(charts) == 3 and all(width > 300 and height > 100 for width, height in charts)
