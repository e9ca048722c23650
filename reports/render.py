"""Rendering of the steering report: JSON as built, Markdown, or HTML with its charts."""

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
