"""A report page as PDF, drawn by WeasyPrint from the very HTML a browser shows (charts are inline SVG, their text
kept as text). Nothing is fetched: the page carries all it needs, and incident text never points anywhere."""

import logging
import re

SYSTEM_PACKAGES = "libpango-1.0-0, libpangoft2-1.0-0 et libharfbuzz0b (Debian, Ubuntu)"


class PdfUnavailable(Exception):
    """WeasyPrint or a system library it needs is missing: the message names what to install, in French."""


def _missing(error: BaseException) -> str:
    found = re.search(r"cannot load library '([^']+)'", str(error))
    if isinstance(error, ImportError) and found is None:
        return ("Le PDF ne peut pas être produit : le module Python « weasyprint » n'est pas installé "
                "(uv sync l'installe).")
    library = f"la bibliothèque système « {found.group(1)} »" if found else "une bibliothèque système"
    return (f"Le PDF ne peut pas être produit : WeasyPrint ne trouve pas {library}. Installez les paquets "
            f"{SYSTEM_PACKAGES}, puis recommencez ; les formats HTML et JSON restent disponibles.")


def html_to_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML page; raises PdfUnavailable when WeasyPrint cannot run here."""
    try:
        from weasyprint import HTML, URLFetcher
    except (ImportError, OSError) as error:  # OSError: cffi could not load pango or gobject
        raise PdfUnavailable(_missing(error)) from None
    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # its notes on CSS it ignores are not the reader's
    pdf = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"}), media_type="print").write_pdf()
    assert pdf is not None
    return bytes(pdf)
