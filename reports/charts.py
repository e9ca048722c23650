"""Charts for the steering report, drawn with matplotlib as inline SVG (no files, no network).

Text stays text in the SVG (`svg.fonttype: none`), so that a browser, WeasyPrint's PDF and a screen reader read the
titles, axis labels and ticks; counts have integer ticks; a legend sits outside the bars it names."""

import io
import textwrap
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display here or on servers
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from reports.steering import SCOPE_NAMES, SCOPES  # noqa: E402

plt.rcParams.update({"svg.hashsalt": "ent-incidents", "svg.fonttype": "none", "font.size": 10,
                     "axes.spines.top": False, "axes.spines.right": False})

SCOPE_COLOURS = {"academy": "#000091", "shared": "#6a6af4", "municipality": "#b34000", "pending": "#929292"}
PER_MONTH_TITLE = "Incidents par mois et par champ de compétence"
TIME_TO_ALERT_TITLE = "Délai de l'alerte de l'autre partie"
ON_TIME_TITLE = "Échéances tenues, par obligation"


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def _counts_axis(axes: Any, top: float) -> None:
    """Counts are whole: integer ticks only, and at least 0 to 1 when everything is zero."""
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, max(1.0, top * 1.1))


def per_month_figure(by_month: dict[str, dict[str, Any]]) -> Figure:
    """Stacked bars of incidents per month and scope; every month of the period has its place, zero included."""
    months = list(by_month)
    positions = list(range(len(months)))
    figure, axes = plt.subplots(figsize=(7, 3))
    bottom = [0] * len(months)
    for scope in SCOPES:
        values = [by_month[month]["by_scope"].get(scope, 0) for month in months]
        if any(values):
            axes.bar(positions, values, bottom=bottom, color=SCOPE_COLOURS[scope],
                     label=textwrap.fill(SCOPE_NAMES[scope], 30))
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_xticks(positions, [by_month[month]["label"] for month in months])
    axes.set_xlim(-0.6, len(months) - 0.4)
    _counts_axis(axes, max(bottom, default=0))
    axes.set_ylabel("incidents")
    axes.set_title(PER_MONTH_TITLE)
    handles, labels = axes.get_legend_handles_labels()
    if handles:
        # Outside the axes, on the right, so that it never hides a bar; top to bottom as the bars are stacked.
        axes.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                    frameon=False, fontsize=8)
    return figure


def incidents_per_month(by_month: dict[str, dict[str, Any]]) -> str:
    return _svg(per_month_figure(by_month))


def time_to_alert_figure(hours: list[float]) -> Figure:
    figure, axes = plt.subplots(figsize=(7, 3))
    top = max([*hours, 60.0])
    counts, _, _ = axes.hist(hours, bins=[edge * 6 for edge in range(int(top // 6) + 2)], color="#6a6af4",
                             edgecolor="white")
    _counts_axis(axes, max(counts, default=0))
    axes.axvline(48, color="#ce0500", linewidth=2, linestyle="--")
    axes.text(48.5, axes.get_ylim()[1] * 0.9, "48 h (Art. 4.1)", color="#ce0500", fontsize=8)
    axes.set_xlabel("heures entre la prise de connaissance et l'alerte")
    axes.set_ylabel("alertes")
    axes.set_title(TIME_TO_ALERT_TITLE)
    return figure


def time_to_alert(hours: list[float]) -> str:
    return _svg(time_to_alert_figure(hours))


def on_time_share(by_kind: dict[str, dict[str, Any]]) -> str:
    kinds = [kind for kind, counts in by_kind.items() if counts["share"] is not None]
    figure, axes = plt.subplots(figsize=(7, 0.6 + 0.5 * max(1, len(kinds))))
    shares = [by_kind[kind]["share"] * 100 for kind in kinds]
    axes.barh([by_kind[kind]["label"] for kind in kinds], shares, color="#18753c")
    for index, share in enumerate(shares):
        axes.text(min(share + 1, 92), index, f"{share:.0f} %", va="center", fontsize=8)
    axes.set_xlim(0, 100)
    axes.set_xlabel("part des obligations remplies dans le délai (%)")
    axes.set_title(ON_TIME_TITLE)
    return _svg(figure)


def steering_charts(data: dict[str, Any]) -> dict[str, str]:
    return {
        "per_month": incidents_per_month(data["by_month"]),
        "time_to_alert": time_to_alert(data["alerts"]["time_to_alert_hours"]),
        "on_time": on_time_share(data["on_time_by_kind"]),
    }
