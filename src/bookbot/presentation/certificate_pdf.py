"""A certificate as a PDF (fpdf2): A4 landscape, the studio, the course, the dates in the
reader's language, the holder's name, the verification code and where to check it.

fpdf2's core fonts are Latin-1 only. The DejaVu TTFs of the system (Debian's fonts-dejavu,
/usr/share/fonts/truetype/dejavu) are embedded when present, so any name prints as given;
without them, text is folded to Latin-1 (accents kept where Latin-1 has them, other letters
decomposed, anything left shown as '?').
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fpdf import FPDF

from bookbot.presentation.formatting import long_date_range
from bookbot.presentation.i18n import Translator, translator
from bookbot.services.certificates import Certificate

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
FAMILY = "DejaVu"
VERIFY_PATH = "/verify/{code}"
DOWNLOAD_PATH = "/certificates/{code}.pdf"
_DASHES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2019": "'"})
MIME = "application/pdf"


@dataclass(frozen=True)
class CertificateText:
    studio_name: str
    course_name: str
    holder_name: str
    first_day: date
    last_day: date
    code: str  # as shown: 7F3Q-K2M9-XA7B
    verify_url: str | None


def dates_text(first: date, last: date, language: str) -> str:
    """'15 January 2027' or '15 – 17 January 2027', in `language`: the chat's day-month
    order (Babel's own 'en' patterns would print 'Jan 15 – 17, 2027')."""
    return long_date_range(first, last, language)


def _fonts() -> tuple[Path, Path] | None:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def latin1(text: str) -> str:
    """Text that the core fonts can print: Latin-1 kept, other letters decomposed ('Ł' is
    not decomposable and becomes '?'), never an error."""
    out = []
    for ch in text.translate(_DASHES):
        if ord(ch) < 256:  # Latin-1
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
        out.append(base or "?")
    return "".join(out)


def _same(text: str) -> str:
    return text


def certificate_pdf(c: CertificateText, t: Translator, *, unicode_fonts: bool = True) -> bytes:
    _ = t._
    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    pdf.set_title(_("Certificate") + f" {c.code}")
    pdf.set_author(c.studio_name)
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    fonts = _fonts() if unicode_fonts else None
    if fonts is not None:
        pdf.add_font(FAMILY, "", str(fonts[0]))
        pdf.add_font(FAMILY, "B", str(fonts[1]))
        family, fold = FAMILY, _same
    else:
        family, fold = "Helvetica", latin1
    width = pdf.w - 40

    def line(text: str, size: float, *, bold: bool = False, gap: float = 4, grey: int = 0) -> None:
        text = fold(text)
        pdf.set_font(family, "B" if bold else "", size)
        wide = pdf.get_string_width(text)
        if wide > width:  # a long name or course: smaller, down to 60%, before it wraps
            size = max(size * 0.6, size * width / wide * 0.98)
            pdf.set_font(family, "B" if bold else "", size)
        pdf.set_text_color(grey, grey, grey)
        pdf.set_x(20)
        pdf.multi_cell(width, size * 0.5, text, align="C")
        pdf.ln(gap)

    pdf.set_draw_color(40, 70, 120)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, pdf.w - 28, pdf.h - 28)
    pdf.set_y(28)
    line(c.studio_name, 18, bold=True, gap=10, grey=60)
    line(_("Certificate of completion"), 30, bold=True, gap=12)
    line(_("This certifies that"), 14, gap=6, grey=80)
    line(c.holder_name, 28, bold=True, gap=8)
    line(_("has completed"), 14, gap=6, grey=80)
    line(c.course_name, 22, bold=True, gap=6)
    line(dates_text(c.first_day, c.last_day, t.language), 14, gap=14, grey=60)
    pdf.set_y(pdf.h - 40)
    line(_("Verification code: {code}").format(code=c.code), 12, bold=True, gap=2)
    if c.verify_url:
        line(_("Check it at {url}").format(url=c.verify_url), 10, gap=0, grey=90)
    return bytes(pdf.output())


def filename(code: str) -> str:
    return f"certificate-{code}.pdf"


def verify_url(public_url: str | None, code: str) -> str | None:
    return public_url.rstrip("/") + VERIFY_PATH.format(code=code) if public_url else None


def download_url(public_url: str | None, code: str) -> str | None:
    return public_url.rstrip("/") + DOWNLOAD_PATH.format(code=code) if public_url else None


def pdf_for(c: Certificate, public_url: str | None) -> bytes:
    """The PDF of a stored certificate, in its customer's language."""
    text = CertificateText(
        studio_name=c.studio_name,
        course_name=c.course_name,
        holder_name=c.holder_name,
        first_day=c.first_day,
        last_day=c.last_day,
        code=c.shown_code,
        verify_url=verify_url(public_url, c.shown_code),
    )
    return certificate_pdf(text, translator(c.language))
