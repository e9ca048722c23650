"""The steering report's charts: counts have whole-number ticks, every month has its place (zero included), the
legend sits clear of the bars, and the text stays text in the SVG (for the PDF and screen readers)."""

import re

from reports.charts import incidents_per_month, per_month_figure, time_to_alert, time_to_alert_figure

ZERO = {"academy": 0, "shared": 0, "municipality": 0, "pending": 0}
BY_MONTH = {
    "2026-09": {"label": "septembre 2026", "incidents": 3, "by_scope": ZERO | {"municipality": 2, "shared": 1},
                "dismissed": 0},
    "2026-10": {"label": "octobre 2026", "incidents": 0, "by_scope": ZERO, "dismissed": 0},
    "2026-11": {"label": "novembre 2026", "incidents": 1, "by_scope": ZERO | {"academy": 1}, "dismissed": 1},
}


def svg_texts(svg):
    return [text.strip() for text in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_incidents_per_month_has_integer_ticks_and_every_month():
    figure = per_month_figure(BY_MONTH)
    figure.canvas.draw()
    [axes] = figure.axes
    assert [label.get_text() for label in axes.get_xticklabels()] == ["septembre 2026", "octobre 2026",
                                                                      "novembre 2026"]
    low, high = axes.get_ylim()
    shown = [tick for tick in axes.get_yticks() if low <= tick <= high]
    assert shown == [0, 1, 2, 3] and all(float(tick).is_integer() for tick in shown)


def test_the_legend_of_incidents_per_month_overlaps_no_bar():
    figure = per_month_figure(BY_MONTH)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    [axes] = figure.axes
    legend = axes.get_legend().get_window_extent(renderer)
    assert not legend.overlaps(axes.get_window_extent(renderer))
    assert axes.patches and not any(bar.get_window_extent(renderer).overlaps(legend) for bar in axes.patches)
    assert [text.get_text().replace("\n", " ") for text in axes.get_legend().get_texts()] == [
        "champ de compétence exclusif de la collectivité",
        "champ de compétence partagé entre l'académie et la collectivité",
        "champ de compétence exclusif de l'académie"]  # top to bottom, as the bars are stacked


def test_the_svg_keeps_its_text_and_never_ticks_at_a_half():
    texts = svg_texts(incidents_per_month(BY_MONTH))
    assert {"Incidents par mois et par champ de compétence", "incidents", "septembre 2026", "octobre 2026",
            "novembre 2026", "0", "1", "2", "3"} <= set(texts)
    assert not [text for text in texts if re.fullmatch(r"\d+[.,]\d+", text)]
    alert_texts = svg_texts(time_to_alert([5.0, 30.0, 30.5, 50.0]))
    assert "heures entre la prise de connaissance et l'alerte" in alert_texts and "alertes" in alert_texts
    figure = time_to_alert_figure([5.0, 30.0, 30.5, 50.0])
    figure.canvas.draw()
    low, high = figure.axes[0].get_ylim()
    assert all(float(tick).is_integer() for tick in figure.axes[0].get_yticks() if low <= tick <= high)


def test_a_period_without_any_incident_still_shows_its_months():
    empty = {month: {**counts, "incidents": 0, "by_scope": ZERO, "dismissed": 0} for month, counts in BY_MONTH.items()}
    figure = per_month_figure(empty)
    figure.canvas.draw()
    [axes] = figure.axes
    assert [label.get_text() for label in axes.get_xticklabels()] == ["septembre 2026", "octobre 2026",
                                                                      "novembre 2026"]
    assert axes.get_legend() is None and axes.get_ylim() == (0.0, 1.0)
