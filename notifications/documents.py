"""A draft's plain text made into editable documents: OpenDocument text (.odt, which French administrations use)
and Word (.docx). The text keeps the draft's one source, its Jinja2 template; a heading in it is a line underlined
with `=` (the title) or `-` (a section), as plain text writes it, and every other line is a paragraph."""

import io
import re
from dataclasses import dataclass
from datetime import datetime

import docx
from odf import teletype
from odf.dc import Language, Title
from odf.opendocument import OpenDocumentText
from odf.style import ParagraphProperties, Style, TextProperties
from odf.text import H, P

from models.outbox import MailFile

ODT = "application/vnd.oasis.opendocument.text"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"
UNDERLINE = re.compile(r"^(=+|-+)\s*$")


@dataclass(frozen=True)
class Block:
    text: str
    level: int  # 0: a paragraph; 1: the title; 2: a section heading


def blocks(text: str) -> list[Block]:
    """The draft's headings and paragraphs, in order; blank lines only separate them."""
    lines = text.splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        line = lines[index].rstrip()
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if line.strip() and len(following) >= 3 and UNDERLINE.match(following):
            found.append(Block(line.strip(), 1 if following.startswith("=") else 2))
            index += 2
            continue
        if line.strip():
            found.append(Block(line.strip(), 0))
        index += 1
    return found


def plain_text(text: str) -> str:
    """The text as a reader sees it in a .txt file: as rendered, ending with one line end."""
    return text.rstrip() + "\n"


def odt(text: str, title: str) -> bytes:
    document = OpenDocumentText()
    default = Style(name="Standard", family="paragraph")
    default.addElement(TextProperties(fontfamily="Arial", fontsize="11pt", language="fr",
                                      country="FR"))
    default.addElement(ParagraphProperties(margintop="0cm", marginbottom="0.2cm"))
    document.styles.addElement(default)
    headings = {}
    for level, size in ((1, "16pt"), (2, "12.5pt")):
        style = Style(name=f"Heading {level}", family="paragraph", parentstylename="Standard")
        style.addElement(TextProperties(fontsize=size, fontweight="bold"))
        style.addElement(ParagraphProperties(margintop="0.5cm", marginbottom="0.2cm", keepwithnext="always"))
        document.styles.addElement(style)
        headings[level] = style
    for block in blocks(text):
        element = H(outlinelevel=block.level, stylename=headings[block.level]) if block.level \
            else P(stylename=default)
        teletype.addTextToElement(element, block.text)
        document.text.addElement(element)
    document.meta.addElement(Title(text=title))
    document.meta.addElement(Language(text="fr-FR"))
    buffer = io.BytesIO()
    document.write(buffer)
    return buffer.getvalue()


def word(text: str, title: str, created: datetime | None = None) -> bytes:
    document = docx.Document()
    properties = document.core_properties
    properties.title, properties.language = title, "fr-FR"
    # Not python-docx's template's: no library as author, no 2013 date.
    properties.author = properties.last_modified_by = properties.comments = ""
    if created is not None:
        properties.created = properties.modified = created
    for block in blocks(text):
        if block.level:
            document.add_heading(block.text, level=block.level)
        else:
            document.add_paragraph(block.text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def editable(stem: str, text: str, created: datetime | None = None) -> tuple[MailFile, MailFile, MailFile]:
    """The draft as `<stem>.odt`, `<stem>.docx` and `<stem>.txt`, titled by its first heading."""
    title = next((block.text for block in blocks(text) if block.level), stem)
    return (MailFile(f"{stem}.odt", ODT, odt(text, title)),
            MailFile(f"{stem}.docx", DOCX, word(text, title, created)),
            MailFile(f"{stem}.txt", TEXT, plain_text(text).encode("utf-8")))
