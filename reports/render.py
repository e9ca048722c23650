"""Rendering of the steering report and the audit file: JSON as built, Markdown, HTML with its charts, or the PDF
of that same HTML."""

import json
from typing import Any

from rendering.environment import render_document


def render_steering(data: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if fmt == "md":
        return render_document("reports/steering.md.j2", data)
    from reports.charts import steering_charts  # matplotlib only when a chart is drawn

    return render_document("reports/steering.html.j2", {**data, "charts": steering_charts(data)})


def steering_pdf(data: dict[str, Any]) -> bytes:
    """The steering report's HTML page, charts included, as PDF (raises reports.pdf.PdfUnavailable)."""
    from reports.pdf import html_to_pdf

    return html_to_pdf(render_steering(data, "html"))


def render_audit(data: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return render_document("reports/audit.html.j2", data)


def audit_pdf(data: dict[str, Any]) -> bytes:
    """The audit file's HTML page as PDF (raises reports.pdf.PdfUnavailable)."""
    from reports.pdf import html_to_pdf

    return html_to_pdf(render_audit(data, "html"))
