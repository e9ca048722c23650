"""Charts for the steering report, drawn with matplotlib as inline SVG (no files, no network)."""

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display here or on servers
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"svg.hashsalt": "ent-incidents", "font.size": 10, "axes.spines.top": False,
                     "axes.spines.right": False})

SCOPE_COLOURS = {"academy": "#000091", "shared": "#6a6af4", "municipality": "#b34000", "pending": "#929292"}
SCOPE_NAMES = {"academy": "académie", "shared": "partagé", "municipality": "collectivité", "pending": "à proposer"}


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def incidents_per_month(by_month: dict[str, dict[str, int]]) -> str:
    months = list(by_month)
    figure, axes = plt.subplots(figsize=(7, 3))
    bottom = [0] * len(months)
    for scope in ("academy", "shared", "municipality", "pending"):
        values = [by_month[month].get(scope, 0) for month in months]
        if any(values):
            axes.bar(months, values, bottom=bottom, color=SCOPE_COLOURS[scope], label=SCOPE_NAMES[scope])
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_ylabel("incidents")
    axes.set_title("Incidents par mois et par champ de compétence")
    axes.legend(frameon=False, fontsize=8)
    return _svg(figure)


def time_to_alert(hours: list[float]) -> str:
    figure, axes = plt.subplots(figsize=(7, 3))
    top = max([*hours, 60.0])
    axes.hist(hours, bins=[edge * 6 for edge in range(int(top // 6) + 2)], color="#6a6af4", edgecolor="white")
    axes.axvline(48, color="#ce0500", linewidth=2, linestyle="--")
    axes.text(48.5, axes.get_ylim()[1] * 0.9, "48 h (Art. 4.1)", color="#ce0500", fontsize=8)
    axes.set_xlabel("heures entre la prise de connaissance et l'alerte")
    axes.set_ylabel("alertes")
    axes.set_title("Délai de l'alerte de l'autre partie")
    return _svg(figure)


def on_time_share(by_kind: dict[str, dict[str, Any]]) -> str:
    kinds = [kind for kind, counts in by_kind.items() if counts["share"] is not None]
    figure, axes = plt.subplots(figsize=(7, 0.6 + 0.5 * max(1, len(kinds))))
    shares = [by_kind[kind]["share"] * 100 for kind in kinds]
    axes.barh([by_kind[kind]["label"] for kind in kinds], shares, color="#18753c")
    for index, share in enumerate(shares):
        axes.text(min(share + 1, 92), index, f"{share:.0f} %", va="center", fontsize=8)
    axes.set_xlim(0, 100)
    axes.set_xlabel("part des obligations tenues dans le délai (%)")
    axes.set_title("Échéances tenues, par obligation")
    return _svg(figure)


def steering_charts(data: dict[str, Any]) -> dict[str, str]:
    return {
        "per_month": incidents_per_month(data["by_month"]),
        "time_to_alert": time_to_alert(data["alerts"]["time_to_alert_hours"]),
        "on_time": on_time_share(data["on_time_by_kind"]),
    }
