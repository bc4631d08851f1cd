"""A product table as a document prints it (title and notes, one- or two-row headers, product,
section, total, blank and repeated header lines) and its renderings as CSV/TSV, Markdown,
HTML, XLSX, XLS, DOCX and ruled PDF tables."""

from __future__ import annotations

import html
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .catalog import Product
from .locales import (
    SYMBOLS,
    TOTALS,
    YES_NO,
    Locale,
    amount,
    fmt_date,
    money,
)

UNITS = {"en": ["pc", "ea", "box"], "de": ["Stk", "St.", "Pkg"], "fr": ["pièce", "u.", "boîte"], "nl": ["st", "stuk", "doos"], "es": ["ud", "caja"]}  # fmt: skip


@dataclass
class Col:
    field: str  # what the column holds (a product field, "net", "list", "qty", "blank" ...)
    header: str
    group: str | None = None  # the label above, in a two-row header


@dataclass
class Line:
    kind: str  # product | section | total | header | blank
    cells: list[str]
    product: Product | None = None
    typed: list[Any] | None = None  # cell values for spreadsheets (numbers and dates)
    label_col: int = 0  # section/total: where the label stands


@dataclass
class Style:
    """How one document writes its values."""

    loc: Locale
    currency: str
    price: str = "symbol"  # symbol | code | plain (number only) | magnitude
    date_style: str = "iso"
    yes_no: tuple[str, str] = ("Yes", "No")
    tag_sep: str = ", "
    group_sep: str | None = None  # thousands separator override ("1 299,00" vs "1 299,00")

    def money(self, value: float) -> str:
        if self.price == "plain":
            return amount(value, self.loc, group=self.group_sep)
        if self.price == "magnitude":
            return magnitude(value, self.currency, self.loc)
        text = money(value, self.currency, self.loc, code=self.price == "code")
        if self.group_sep is not None:
            text = text.replace(self.loc.group, self.group_sep)
        return text


def magnitude(value: float, currency: str, loc: Locale) -> str:
    """``12500`` as ``$12.5k`` / ``12,5 Tsd. €`` / ``1.2M`` (values are generated to fit)."""
    sign = SYMBOLS[currency]
    if value >= 1_000_000:
        number, suffix = value / 1_000_000, {"de": " Mio.", "fr": " M", "nl": " mln"}.get(loc.lang, "M")  # fmt: skip
    else:
        number, suffix = value / 1000, {"de": " Tsd.", "fr": " k", "nl": "K"}.get(loc.lang, "k")
    digits = f"{number:.2f}".rstrip("0").rstrip(".").replace(".", loc.decimal)
    if loc.symbol_after:
        return f"{digits}{suffix} {sign}"
    return f"{sign}{digits}{suffix}" if sign != "CHF" else f"CHF {digits}{suffix}"


def random_style(rng: random.Random, loc: Locale, currency: str, price: str = "symbol") -> Style:
    return Style(
        loc=loc,
        currency=currency,
        price=price,
        date_style=rng.choice(loc.date_styles),
        yes_no=rng.choice(YES_NO[loc.lang]),
        tag_sep=rng.choice([", ", "; ", " | ", ","]),
    )


def cell_text(p: Product, col: Col, st: Style) -> str:
    f = col.field
    if f in ("price", "net"):
        return st.money(p.price)
    if f == "list":
        return st.money(p.list_price)
    if f == "amount":
        return st.money(round(p.price * int(p.extra["qty"]), 2))
    if f == "in_stock":
        return st.yes_no[0] if p.in_stock else st.yes_no[1]
    if f == "qty":
        return str(p.stock_qty)
    if f == "qty_ordered":
        return str(p.extra["qty"])
    if f == "pos":
        return str(p.extra["pos"])
    if f == "release_date":
        return fmt_date(p.release_date, st.loc, st.date_style)
    if f == "available_from":
        return fmt_date(p.available_from, st.loc, st.date_style)
    if f == "tags":
        return st.tag_sep.join(p.tags)
    if f == "currency":
        return p.currency
    if f == "uom":
        return str(p.extra.get("uom", UNITS[st.loc.lang][0]))
    if f == "weight":
        return p.weight.replace(".", st.loc.decimal)
    if f == "blank":
        return ""
    return str(getattr(p, f))


def cell_typed(p: Product, col: Col, st: Style) -> Any:
    f = col.field
    if f in ("price", "net"):
        return p.price
    if f == "list":
        return p.list_price
    if f == "amount":
        return round(p.price * int(p.extra["qty"]), 2)
    if f == "qty":
        return p.stock_qty
    if f == "qty_ordered":
        return int(p.extra["qty"])
    if f in ("release_date", "available_from"):
        d: date = getattr(p, f)
        return datetime(d.year, d.month, d.day)
    return cell_text(p, col, st)


@dataclass
class Table:
    cols: list[Col]
    lines: list[Line]
    style: Style
    above: list[str] = field(default_factory=list)  # title and notes above the table
    below: list[str] = field(default_factory=list)  # notes under it
    beside: str | None = None  # a note to the right (spreadsheets)

    @property
    def width(self) -> int:
        return len(self.cols)

    @property
    def two_row(self) -> bool:
        return any(c.group for c in self.cols)

    def header_rows(self) -> list[list[str]]:
        if not self.two_row:
            return [[c.header for c in self.cols]]
        top, bottom, last = [], [], None
        for c in self.cols:
            if c.group:
                top.append(c.group if c.group != last else "")
                bottom.append(c.header)
            else:
                top.append(c.header)
                bottom.append("")
            last = c.group
        return [top, bottom]

    def groups(self) -> list[tuple[int, int, str]]:
        """(first column, span, label) of each two-row header group."""
        out: list[tuple[int, int, str]] = []
        for i, c in enumerate(self.cols):
            if c.group and out and out[-1][2] == c.group and out[-1][0] + out[-1][1] == i:
                out[-1] = (out[-1][0], out[-1][1] + 1, c.group)
            elif c.group:
                out.append((i, 1, c.group))
        return out

    def products(self) -> list[Product]:
        return [ln.product for ln in self.lines if ln.product is not None]


def product_line(p: Product, cols: list[Col], st: Style) -> Line:
    return Line(
        "product",
        [cell_text(p, c, st) for c in cols],
        p,
        [cell_typed(p, c, st) for c in cols],
    )


def label_line(kind: str, label: str, width: int, at: int = 0, value: tuple[int, str] | None = None) -> Line:  # fmt: skip
    cells = [""] * width
    cells[at] = label
    if value is not None:
        cells[value[0]] = value[1]
    return Line(kind, cells, label_col=at)


def build_lines(
    rng: random.Random,
    products: list[Product],
    cols: list[Col],
    st: Style,
    *,
    sections: Callable[[Product], str] | None = None,
    subtotals: bool = False,
    totals: str = "none",  # none | total | invoice | unlabeled
    total_label_col: int | None = None,
    repeat_header_every: int | None = None,
    page_label: Callable[[int], str] | None = None,
    blank_between_sections: bool = False,
) -> list[Line]:
    """Product lines with section headings, subtotals, totals and repeated headers."""
    width = len(cols)
    lang = st.loc.lang
    fields = [c.field for c in cols]
    sum_col = (
        fields.index("amount")
        if "amount" in fields
        else next((i for i, f in enumerate(fields) if f in ("price", "net")), width - 1)
    )
    label_at = total_label_col if total_label_col is not None else 0
    lines: list[Line] = []
    since_header = 0
    page = 1

    def value_of(p: Product) -> float:
        return round(p.price * int(p.extra["qty"]), 2) if "amount" in fields else p.price

    def total_line(label: str, value: float) -> Line:
        line = label_line("total", label, width, label_at, (sum_col, st.money(value)))
        line.typed = list(line.cells)
        line.typed[sum_col] = round(value, 2)
        return line

    current: str | None = None
    section_sum = 0.0
    grand = 0.0
    for p in products:
        if sections is not None and sections(p) != current:
            if current is not None and subtotals:
                lines.append(total_line(rng.choice(TOTALS[lang]["subtotal"]), section_sum))
            if current is not None and blank_between_sections:
                lines.append(Line("blank", [""] * width))
            current = sections(p)
            section_sum = 0.0
            lines.append(label_line("section", current, width))
        if repeat_header_every and since_header >= repeat_header_every:
            page += 1
            lines.append(Line("header", [page_label(page)] if page_label else []))
            since_header = 0
        lines.append(product_line(p, cols, st))
        since_header += 1
        section_sum += value_of(p)
        grand += value_of(p)
    if sections is not None and subtotals:
        lines.append(total_line(rng.choice(TOTALS[lang]["subtotal"]), section_sum))
    if totals == "total":
        lines.append(total_line(rng.choice(TOTALS[lang]["total"]), grand))
    elif totals == "invoice":
        rate = {"en": 0.2, "de": 0.19, "fr": 0.2, "nl": 0.21, "es": 0.21}[lang]
        tax_label = rng.choice(TOTALS[lang]["tax"])
        if "%" not in tax_label:
            rate = 0.2
        elif "8.25" in tax_label:
            rate = 0.0825
        lines.append(total_line(rng.choice(TOTALS[lang]["subtotal"]), grand))
        lines.append(total_line(tax_label, grand * rate))
        lines.append(total_line(rng.choice(TOTALS[lang]["total"]), grand * (1 + rate)))
    elif totals == "unlabeled":
        line = total_line("", grand)
        lines.append(line)
    return lines


# -- text renderings ---------------------------------------------------------------------------
def grid_rows(t: Table) -> list[list[str]]:
    """Header and body as a rectangular grid (what a CSV export of the sheet holds)."""
    headers = t.header_rows()
    rows = [list(h) for h in headers]
    for line in t.lines:
        if line.kind == "header":
            if line.cells:  # a page label printed before the repeated header
                rows.append([*line.cells, *[""] * (t.width - len(line.cells))])
            rows.extend(list(h) for h in headers)
        elif line.kind == "blank":
            rows.append([""] * t.width)
        else:
            rows.append(list(line.cells))
    return rows


def markdown(t: Table) -> list[str]:
    head = t.header_rows()[-1] if not t.two_row else [
        f"{c.group} {c.header}" if c.group else c.header for c in t.cols
    ]  # fmt: skip
    align = ["---:" if c.field in ("price", "net", "list", "amount", "qty") else ":---" for c in t.cols]  # fmt: skip
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    for line in t.lines:
        if line.kind == "product":
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in line.cells) + " |")
        elif line.kind in ("section", "total"):
            cells = [f"**{c}**" if c else "" for c in line.cells]
            out.append("| " + " | ".join(cells) + " |")
        elif line.kind == "header":
            out.append("| " + " | ".join(head) + " |")
    return out


def html_table(t: Table, *, attrs: str = "", tfoot: bool = True, use_thead: bool = True) -> str:
    esc = html.escape
    out = [f"<table{attrs}>"]
    head: list[str] = []
    if t.two_row:
        top = []
        spans = {g[0]: g for g in t.groups()}
        i = 0
        while i < t.width:
            c = t.cols[i]
            if i in spans:
                _, span, label = spans[i]
                top.append(f'<th colspan="{span}">{esc(label)}</th>')
                i += span
                continue
            top.append(f'<th rowspan="2">{esc(c.header)}</th>')
            i += 1
        head.append("<tr>" + "".join(top) + "</tr>")
        head.append("<tr>" + "".join(f"<th>{esc(c.header)}</th>" for c in t.cols if c.group) + "</tr>")  # fmt: skip
    else:
        head.append("<tr>" + "".join(f"<th>{esc(c.header)}</th>" for c in t.cols) + "</tr>")
    out.extend(["<thead>", *head, "</thead>"] if use_thead else head)
    body = [line for line in t.lines if not (tfoot and line.kind == "total")]
    foot = [line for line in t.lines if tfoot and line.kind == "total"]
    out.append("<tbody>")
    for line in body:
        if line.kind == "section":
            out.append(f'<tr class="group"><th colspan="{t.width}">{esc(line.cells[0])}</th></tr>')
        elif line.kind == "header":
            out.extend(head)
        elif line.kind == "blank":
            out.append(f'<tr><td colspan="{t.width}">&nbsp;</td></tr>')
        else:
            out.append(_html_row(t, line))
    out.append("</tbody>")
    if foot:
        out.append("<tfoot>")
        out.extend(_html_row(t, line) for line in foot)
        out.append("</tfoot>")
    out.append("</table>")
    return "\n".join(out)


def _html_row(t: Table, line: Line) -> str:
    esc = html.escape
    if line.kind == "total" and line.label_col > 0:
        # The label cell spans the empty cells before it.
        cells = [f'<td colspan="{line.label_col + 1}" class="label">{esc(line.cells[line.label_col])}</td>']  # fmt: skip
        cells += [f"<td>{esc(c)}</td>" for c in line.cells[line.label_col + 1 :]]
        return '<tr class="total">' + "".join(cells) + "</tr>"
    cells = []
    for col, text in zip(t.cols, line.cells, strict=True):
        if col.field == "url" and text and line.kind == "product":
            cells.append(f'<td><a href="{esc(text)}">{esc(text)}</a></td>')
        else:
            cells.append(f"<td>{esc(text)}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


# -- spreadsheets ---------------------------------------------------------------------------------
def number_format(st: Style) -> str:
    if st.price != "symbol":
        return "#,##0.00"
    sign = SYMBOLS[st.currency]
    if st.loc.symbol_after:
        return f'#,##0.00\\ "{sign}"'
    return f'"{sign}"#,##0.00' if sign != "CHF" else '"CHF "#,##0.00'


DATE_FORMATS = {"us": "mm/dd/yyyy", "iso": "yyyy-mm-dd", "dotted": "dd.mm.yyyy", "slash_dmy": "dd/mm/yyyy", "dash_dmy": "dd-mm-yyyy", "long_us": "mmm d, yyyy", "long_dmy": "d mmmm yyyy"}  # fmt: skip


def write_xlsx(ws: Any, t: Table, *, top: int = 1, left: int = 1, typed: bool = True, merge: bool = True) -> int:  # fmt: skip
    """Write ``t`` at (top, left) of an openpyxl sheet; returns the next free row."""
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    row = top
    for text in t.above:
        ws.cell(row=row, column=left, value=text)
        if merge and text == t.above[0]:
            ws.cell(row=row, column=left).font = Font(bold=True, size=14)
            ws.merge_cells(start_row=row, start_column=left, end_row=row, end_column=left + t.width - 1)  # fmt: skip
        row += 1
    if t.above:
        row += 1

    def header(at: int) -> int:
        rows = t.header_rows()
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                cell = ws.cell(row=at + r, column=left + c, value=value or None)
                cell.font = bold
        if t.two_row and merge:
            for first, span, _ in t.groups():
                if span > 1:
                    ws.merge_cells(start_row=at, start_column=left + first, end_row=at, end_column=left + first + span - 1)  # fmt: skip
                ws.cell(row=at, column=left + first).alignment = Alignment(horizontal="center")
            for c, col in enumerate(t.cols):
                if not col.group:
                    ws.merge_cells(start_row=at, start_column=left + c, end_row=at + 1, end_column=left + c)  # fmt: skip
        return at + len(rows)

    row = header(row)
    fmt = number_format(t.style)
    fields = [c.field for c in t.cols]
    for line in t.lines:
        if line.kind == "header":
            row = header(row)
            continue
        if line.kind == "section":
            ws.cell(row=row, column=left, value=line.cells[0]).font = bold
            if merge:
                ws.merge_cells(start_row=row, start_column=left, end_row=row, end_column=left + t.width - 1)  # fmt: skip
        elif line.kind != "blank":
            values = line.typed if typed and line.typed is not None else line.cells
            for c, value in enumerate(values):
                if value == "" or value is None:
                    continue
                cell = ws.cell(row=row, column=left + c, value=value)
                if isinstance(value, float) and fields[c] in ("price", "net", "list", "amount"):
                    cell.number_format = fmt
                elif isinstance(value, datetime):
                    cell.number_format = DATE_FORMATS.get(t.style.date_style, "yyyy-mm-dd")
                if line.kind == "total":
                    cell.font = bold
        row += 1
    if t.beside:
        ws.cell(row=top + 1, column=left + t.width + 1, value=t.beside)
    if t.below:
        row += 1
        for text in t.below:
            ws.cell(row=row, column=left, value=text)
            row += 1
    for c, col in enumerate(t.cols):
        from openpyxl.utils import get_column_letter

        ws.column_dimensions[get_column_letter(left + c)].width = 40 if col.field == "name" else 14
    return row


def write_xls(ws: Any, t: Table, *, top: int = 0) -> int:
    import xlwt

    bold = xlwt.easyxf("font: bold on")
    money_style = xlwt.easyxf(num_format_str="#,##0.00")
    date_style = xlwt.easyxf(num_format_str=DATE_FORMATS.get(t.style.date_style, "YYYY-MM-DD"))
    row = top
    for text in t.above:
        ws.write(row, 0, text, bold)
        row += 1
    if t.above:
        row += 1

    def header(at: int) -> int:
        for r, values in enumerate(t.header_rows()):
            for c, value in enumerate(values):
                if value:
                    ws.write(at + r, c, value, bold)
        return at + len(t.header_rows())

    row = header(row)
    for line in t.lines:
        if line.kind == "header":
            row = header(row)
            continue
        if line.kind == "section":
            ws.write_merge(row, row, 0, t.width - 1, line.cells[0], bold)
        elif line.kind != "blank":
            values = line.typed if line.typed is not None else line.cells
            for c, value in enumerate(values):
                if value == "" or value is None:
                    continue
                if isinstance(value, datetime):
                    ws.write(row, c, value, date_style)
                elif isinstance(value, float):
                    ws.write(row, c, value, money_style)
                else:
                    ws.write(row, c, value)
        row += 1
    for text in t.below:
        row += 1
        ws.write(row, 0, text)
    return row


# -- DOCX and PDF -----------------------------------------------------------------------------------
def write_docx(document: Any, t: Table) -> None:
    rows = t.header_rows()
    table = document.add_table(rows=len(rows), cols=t.width)
    table.style = "Table Grid"
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
            for run in table.cell(r, c).paragraphs[0].runs:
                run.bold = True
    if t.two_row:
        for first, span, _ in t.groups():
            if span > 1:
                table.cell(0, first).merge(table.cell(0, first + span - 1))
        for c, col in enumerate(t.cols):
            if not col.group:
                table.cell(0, c).merge(table.cell(1, c)).text = col.header
    for line in t.lines:
        if line.kind == "header":
            for values in rows:
                cells = table.add_row().cells
                for cell, value in zip(cells, values, strict=True):
                    cell.text = value
            continue
        cells = table.add_row().cells
        if line.kind == "section":
            merged = cells[0].merge(cells[-1])
            merged.text = line.cells[0]
            merged.paragraphs[0].runs[0].bold = True
            continue
        if line.kind == "total" and line.label_col > 0:
            merged = cells[0].merge(cells[line.label_col])
            merged.text = line.cells[line.label_col]
            for cell, value in zip(cells[line.label_col + 1 :], line.cells[line.label_col + 1 :], strict=True):  # fmt: skip
                cell.text = value
            continue
        for cell, value in zip(cells, line.cells, strict=True):
            cell.text = value


def write_pdf_table(pdf: Any, t: Table, widths: tuple[float, ...] | None = None) -> None:
    from fpdf.fonts import FontFace

    heading_rows = len(t.header_rows())
    with pdf.table(
        col_widths=widths,
        num_heading_rows=heading_rows,
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 225, 225)),
        line_height=pdf.font_size * 1.9,
        text_align="LEFT",
    ) as table:
        if t.two_row:
            top = table.row()
            spans = {g[0]: g for g in t.groups()}
            i = 0
            while i < t.width:
                if i in spans:
                    top.cell(spans[i][2], colspan=spans[i][1], align="CENTER")
                    i += spans[i][1]
                    continue
                top.cell(t.cols[i].header, rowspan=2)
                i += 1
            bottom = table.row()
            for col in t.cols:
                if col.group:
                    bottom.cell(col.header)
        else:
            table.row([c.header for c in t.cols])
        for line in t.lines:
            if line.kind == "header":
                continue  # fpdf2 repeats the heading rows on every page by itself
            row = table.row()
            if line.kind == "section":
                row.cell(line.cells[0], colspan=t.width, style=FontFace(emphasis="BOLD"))
            elif line.kind == "blank":
                row.cell("", colspan=t.width)
            elif line.kind == "total" and line.label_col > 0:
                row.cell(line.cells[line.label_col], colspan=line.label_col + 1, align="RIGHT")
                for value in line.cells[line.label_col + 1 :]:
                    row.cell(value)
            else:
                for value in line.cells:
                    row.cell(value)
