"""Import of a bank or card statement CSV: upload, map columns, preview, import (issue 16 item 3).

Read with the standard library's `csv` module: tablib and django-import-export are not installed,
and a statement is one flat table whose rules (duplicates, line numbers, our numbering) would
not fit their row-by-row import anyway.

The upload is kept on a StatementUpload row between the steps. The preview and the import run
the same parse, so what the preview lists is what the import does: good lines are imported in
one database transaction with gap-free numbers, duplicates and malformed lines are skipped and
listed with their line numbers.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounting import rules
from accounting.models import Budget, StatementUpload, Transaction, TransactionEvent
from accounting.transactions import entry_branches, transaction_number_format
from core.messages import Message, register
from core.models import Sequence
from core.money import to_decimal
from core.numbering import sequence_take
from garage.models import Branch

SEQUENCE = "transaction"
DELIMITERS = (",", ";", "\t", "|")
# Spreadsheets, PDFs, images and archives, recognised by their first bytes whatever their name.
_BINARY_SIGNATURES = (
    b"PK\x03\x04",
    b"\xd0\xcf\x11\xe0",
    b"%PDF-",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\x1f\x8b",
    b"Rar!",
)
DATE_FORMATS = {
    "dd/mm/yyyy": "%d/%m/%Y",
    "yyyy-mm-dd": "%Y-%m-%d",
    "mm/dd/yyyy": "%m/%d/%Y",
    "dd-mm-yyyy": "%d-%m-%Y",
    "dd.mm.yyyy": "%d.%m.%Y",
}
# Arabic-Indic digits and the Arabic decimal and thousands separators, as some exports write them.
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬", "01234567890123456789.,")
_AMOUNT = re.compile(r"\d+(\.\d{1,2})?")
_MAX_LENGTH = {"description": 500, "reference": 100, "payee": 200}

# Rendered when shown, in the reader's language (core/messages.py).
register(
    "accounting.import.cells",
    gettext_lazy("Line %(line)s has %(found)s cells; the columns chosen need %(needed)s."),
)
register(
    "accounting.import.date",
    gettext_lazy("Line %(line)s: “%(value)s” is not a date written %(format)s."),
)
register(
    "accounting.import.date_late",
    gettext_lazy("Line %(line)s: the date %(date)s is after %(latest)s."),
)
register(
    "accounting.import.amount",
    gettext_lazy(
        "Line %(line)s: “%(value)s” is not an amount with “%(separator)s” as decimal separator."
    ),
)
register("accounting.import.amount_missing", gettext_lazy("Line %(line)s has no amount."))
register(
    "accounting.import.debit_and_credit",
    gettext_lazy("Line %(line)s has both a debit and a credit."),
)
register(
    "accounting.import.amount_not_positive",
    gettext_lazy("Line %(line)s: the amount %(value)s must be more than zero."),
)
register("accounting.import.vat", gettext_lazy("Line %(line)s: “%(value)s” is not a VAT amount."))
register(
    "accounting.import.vat_negative",
    gettext_lazy("Line %(line)s: the VAT amount cannot be negative."),
)
register(
    "accounting.import.vat_too_large",
    gettext_lazy("Line %(line)s: the VAT %(vat)s is larger than the amount %(amount)s."),
)
register(
    "accounting.import.budget",
    gettext_lazy("Line %(line)s: no budget or category in use is named “%(value)s”."),
)
register(
    "accounting.import.employee",
    gettext_lazy("Line %(line)s: no active user has the username “%(value)s”."),
)
register(
    "accounting.import.too_long",
    gettext_lazy("Line %(line)s: the %(column)s is longer than %(limit)s characters."),
)


class StatementRefused(Exception):
    """The file cannot be a statement; the message says why, in the user's language."""


@dataclass(frozen=True)
class Mapping:
    """Which column holds what (0-based indexes), and how dates and amounts are written."""

    date: int
    description: int
    reference: int
    date_format: str
    decimal: str
    amount: int | None = None
    debit: int | None = None
    credit: int | None = None
    vat: int | None = None
    payee: int | None = None
    budget: int | None = None
    employee: int | None = None

    def columns(self) -> list[int]:
        return [c for c in vars(self).values() if isinstance(c, int) and not isinstance(c, bool)]


@dataclass(frozen=True)
class Line:
    """A statement line that can become a transaction."""

    line: int
    date: datetime.date
    amount: Decimal
    direction: str
    vat_amount: Decimal
    description: str
    reference: str
    payee: str
    budget: Budget | None
    employee: User | None

    @property
    def key(self) -> tuple[str, datetime.date, Decimal, str]:
        # "Same date, amount and reference": the amount with its sign, so a refund of a
        # purchase (money in, same amount, same reference) is not taken for the purchase.
        return (self.reference, self.date, self.amount, self.direction)

    @property
    def kind(self) -> str:
        # Money out is an expense, money in is cash in; the accountant may change either later.
        if self.direction == Transaction.Direction.OUT:
            return Transaction.Kind.EXPENSE
        return Transaction.Kind.CASH_IN


@dataclass(frozen=True)
class Duplicate:
    line: int
    date: datetime.date
    amount: Decimal
    direction: str
    reference: str
    # The stored transaction's number, or the earlier line of the same file.
    number: str = ""
    first_line: int | None = None

    def as_data(self) -> dict[str, object]:
        return {
            "line": self.line,
            "date": self.date.isoformat(),
            "amount": str(self.amount),
            "direction": self.direction,
            "reference": self.reference,
            "number": self.number,
            "first_line": self.first_line,
        }


@dataclass(frozen=True)
class Problem:
    line: int
    message: Message

    def as_data(self) -> dict[str, object]:
        return {"line": self.line, "code": self.message.code, "params": self.message.params}


@dataclass(frozen=True)
class Preview:
    lines: list[Line]
    duplicates: list[Duplicate]
    problems: list[Problem]


# Reading the file


def _refuse_binary(content: bytes, name: str) -> None:
    if content.startswith(_BINARY_SIGNATURES) or b"\x00" in content[:8192]:
        raise StatementRefused(
            _("%(name)s is not a CSV file (it looks like a spreadsheet, PDF or image): "
              "export the statement as CSV and upload that.") % {"name": name}
        )  # fmt: skip


def _decode(content: bytes, encoding: str, name: str) -> str:
    label = StatementUpload.Encoding(encoding).label
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError as exc:
        raise StatementRefused(
            _("%(name)s cannot be read as %(encoding)s (byte %(position)s is not valid there): "
              "choose the encoding it was saved in — Windows-1256 for an Arabic Excel export.")
            % {"name": name, "encoding": label, "position": exc.start + 1}
        ) from None  # fmt: skip
    if encoding != StatementUpload.Encoding.UTF8 and not content.isascii():
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            # Every byte means something in Windows-1256, so UTF-8 read as it is not an error,
            # only garbled Arabic: say so rather than import it.
            raise StatementRefused(
                _("%(name)s is UTF-8, not %(encoding)s: choose UTF-8, or its Arabic would be "
                  "garbled.") % {"name": name, "encoding": label}
            )  # fmt: skip
    return text


def _delimiter(text: str, name: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0:
        raise StatementRefused(
            _("%(name)s is not a CSV file: its first line has no columns separated by commas, "
              "semicolons or tabs.") % {"name": name}
        )  # fmt: skip
    return best


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank record; the number is the file's own line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield start, [cell.strip() for cell in cells]
        start = reader.line_num + 1


def statement_read(*, content: bytes, encoding: str, name: str) -> tuple[str, list[str], int]:
    """The file's delimiter, header and number of lines; StatementRefused if it is no statement."""
    if not content.strip():
        raise StatementRefused(_("%(name)s is empty.") % {"name": name})
    _refuse_binary(content, name)
    text = _decode(content, encoding, name)
    delimiter = _delimiter(text, name)
    try:
        records = list(_records(text, delimiter))
    except csv.Error as exc:
        raise StatementRefused(
            _("%(name)s is not a readable CSV file: %(error)s.") % {"name": name, "error": exc}
        ) from None
    header = records[0][1]
    if len(header) < 2:
        raise StatementRefused(
            _("%(name)s has a single column: it is not a statement.") % {"name": name}
        )
    if len(records) < 2:
        raise StatementRefused(
            _("%(name)s has a header line but no statement lines.") % {"name": name}
        )
    return delimiter, header, len(records) - 1


def statement_upload_create(*, file: UploadedFile, encoding: str, user: User) -> StatementUpload:
    """Keep an uploaded statement for the mapping step; StatementRefused saves nothing."""
    name = (file.name or "statement.csv")[:200]
    if (file.size or 0) > settings.STATEMENT_MAX_BYTES:
        raise StatementRefused(statement_too_large(name=name))
    content = file.read(settings.STATEMENT_MAX_BYTES + 1)
    if len(content) > settings.STATEMENT_MAX_BYTES:
        raise StatementRefused(statement_too_large(name=name))
    delimiter, header, count = statement_read(content=content, encoding=encoding, name=name)
    return StatementUpload.objects.create(
        uploaded_by=user,
        original_name=name,
        encoding=encoding,
        delimiter=delimiter,
        content=content,
        header=header,
        row_count=count,
    )


def statement_too_large(*, name: str) -> str:
    """The refusal of a file over STATEMENT_MAX_BYTES (the one home of its words)."""
    return _("%(name)s is larger than %(limit)s: export a shorter period.") % {
        "name": name,
        "limit": filesizeformat(settings.STATEMENT_MAX_BYTES),
    }


# Parsing lines


class _LineError(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.message = Message(code, **params)


def _amount(
    value: str, *, line: int, decimal: str, code: str = "accounting.import.amount"
) -> Decimal | None:
    """A cell as a signed Decimal, or None when it is empty."""
    text = value.translate(_ARABIC_DIGITS).replace("\u00a0", "").replace(" ", "")
    text = text.removeprefix("SAR").removesuffix("SAR")
    if not text:
        return None
    negative = text.startswith("-") or text.endswith("-") or (text[0] + text[-1] == "()")
    digits = text.strip("-()+")
    if decimal == ",":
        digits = digits.replace(".", "").replace(",", ".")
    else:
        digits = digits.replace(",", "")
    if not _AMOUNT.fullmatch(digits):
        raise _LineError(code, line=line, value=value, separator=decimal)
    number = to_decimal(digits)
    return -number if negative else number


def _date(value: str, mapping: Mapping) -> datetime.date:
    parsed = datetime.datetime.strptime(
        value.translate(_ARABIC_DIGITS), DATE_FORMATS[mapping.date_format]
    )
    return parsed.date()


def _cell(cells: list[str], column: int | None) -> str:
    return cells[column] if column is not None else ""


def _parse(
    line: int,
    cells: list[str],
    mapping: Mapping,
    header: list[str],
    budgets: dict[str, Budget],
    employees: dict[str, User],
) -> Line:
    needed = max(mapping.columns()) + 1
    if len(cells) < needed:
        raise _LineError("accounting.import.cells", line=line, found=len(cells), needed=needed)
    raw_date = cells[mapping.date]
    try:
        date = _date(raw_date, mapping)
    except ValueError:
        raise _LineError(
            "accounting.import.date", line=line, value=raw_date, format=mapping.date_format
        ) from None
    if rules.date_refusal(date=date) is not None:
        raise _LineError(
            "accounting.import.date_late",
            line=line,
            date=date.isoformat(),
            latest=rules.date_latest().isoformat(),
        )
    dec = mapping.decimal
    if mapping.amount is not None:
        signed = _amount(cells[mapping.amount], line=line, decimal=dec)
        if signed is None:
            raise _LineError("accounting.import.amount_missing", line=line)
        direction = Transaction.Direction.OUT if signed < 0 else Transaction.Direction.IN
        amount = abs(signed)
        if signed == 0:
            raise _LineError("accounting.import.amount_not_positive", line=line, value=str(signed))
    else:
        debit = _amount(_cell(cells, mapping.debit), line=line, decimal=dec) or Decimal(0)
        credit = _amount(_cell(cells, mapping.credit), line=line, decimal=dec) or Decimal(0)
        if debit and credit:
            raise _LineError("accounting.import.debit_and_credit", line=line)
        if not debit and not credit:
            raise _LineError("accounting.import.amount_missing", line=line)
        direction = Transaction.Direction.OUT if debit else Transaction.Direction.IN
        amount = debit or credit
        if amount <= 0:
            raise _LineError("accounting.import.amount_not_positive", line=line, value=str(amount))
    vat = _amount(
        _cell(cells, mapping.vat), line=line, decimal=dec, code="accounting.import.vat"
    ) or Decimal(0)
    if vat < 0 and mapping.amount is not None and direction == Transaction.Direction.OUT:
        vat = -vat  # a statement that signs money out signs its VAT the same way
    refusals = rules.amount_refusals(amount=amount, vat_amount=vat)
    if "vat_amount" in refusals:
        if vat < 0:
            raise _LineError("accounting.import.vat_negative", line=line)
        raise _LineError(
            "accounting.import.vat_too_large", line=line, vat=str(vat), amount=str(amount)
        )
    texts = {
        "description": _cell(cells, mapping.description),
        "reference": _cell(cells, mapping.reference),
        "payee": _cell(cells, mapping.payee),
    }
    for field, text in texts.items():
        if len(text) > _MAX_LENGTH[field]:
            column = getattr(mapping, field)
            raise _LineError(
                "accounting.import.too_long",
                line=line,
                column=header[column] if column < len(header) else str(column + 1),
                limit=_MAX_LENGTH[field],
            )
    budget = employee = None
    if name := _cell(cells, mapping.budget):
        budget = budgets.get(name.casefold())
        if budget is None:
            raise _LineError("accounting.import.budget", line=line, value=name)
    if username := _cell(cells, mapping.employee):
        employee = employees.get(username)
        if employee is None:
            raise _LineError("accounting.import.employee", line=line, value=username)
    return Line(
        line=line,
        date=date,
        amount=amount,
        direction=direction,
        vat_amount=vat,
        description=texts["description"],
        reference=texts["reference"],
        payee=texts["payee"],
        budget=budget,
        employee=employee,
    )


def statement_preview(*, upload: StatementUpload, mapping: Mapping) -> Preview:
    """What importing `upload` with `mapping` would do, line by line; writes nothing."""
    text = bytes(upload.content).decode(upload.encoding)
    records = list(_records(text, upload.delimiter))[1:]
    budgets: dict[str, Budget] = {}
    employees: dict[str, User] = {}
    if mapping.budget is not None:
        for budget in Budget.objects.filter(is_active=True):
            budgets.setdefault(budget.name_en.casefold(), budget)
            if budget.name_ar:
                budgets.setdefault(budget.name_ar.casefold(), budget)
    if mapping.employee is not None:
        names = {
            _cell(cells, mapping.employee)
            for _line, cells in records
            if len(cells) > mapping.employee
        }
        employees = {u.username: u for u in User.objects.filter(username__in=names, is_active=True)}
    parsed: list[Line] = []
    problems: list[Problem] = []
    for line, cells in records:
        try:
            parsed.append(_parse(line, cells, mapping, upload.header, budgets, employees))
        except _LineError as exc:
            problems.append(Problem(line=line, message=exc.message))
    stored: dict[tuple[str, datetime.date, Decimal, str], str] = {}
    if parsed:
        dates = [p.date for p in parsed]
        found = Transaction.objects.filter(
            reference__in={p.reference for p in parsed}, date__gte=min(dates), date__lte=max(dates)
        ).values_list("reference", "date", "amount", "direction", "number")
        stored = {
            (ref, date, amount, direction): number for ref, date, amount, direction, number in found
        }
    lines: list[Line] = []
    duplicates: list[Duplicate] = []
    seen: dict[tuple[str, datetime.date, Decimal, str], int] = {}
    for p in parsed:
        if p.key in stored or p.key in seen:
            duplicates.append(
                Duplicate(
                    line=p.line,
                    date=p.date,
                    amount=p.amount,
                    direction=p.direction,
                    reference=p.reference,
                    number=stored.get(p.key, ""),
                    first_line=seen.get(p.key),
                )
            )
        else:
            seen[p.key] = p.line
            lines.append(p)
    return Preview(lines=lines, duplicates=duplicates, problems=problems)


def statement_import(
    *, upload: StatementUpload, mapping: Mapping, branch: Branch, user: User
) -> StatementUpload:
    """Import the good lines of `upload` as transactions of `branch`, all or none."""
    if branch.pk not in {b.pk for b in entry_branches(user=user)}:
        raise PermissionDenied
    with transaction.atomic():
        claimed = StatementUpload.objects.select_for_update().filter(
            pk=upload.pk, uploaded_by=user, imported_at__isnull=True
        )
        if not claimed.exists():
            raise ValidationError(_("This statement has already been imported."))
        # Every import and entry of a year takes that year's number row first, so two imports
        # of the same statement cannot both find its lines new.
        years = sorted({d.year for d in _dates(upload, mapping)})
        for year in years:
            Sequence.objects.get_or_create(name=SEQUENCE, year=year)
        list(
            Sequence.objects.select_for_update()
            .filter(name=SEQUENCE, year__in=years)
            .order_by("year")
        )
        preview = statement_preview(upload=upload, mapping=mapping)
        if not preview.lines:
            raise ValidationError(
                _("No line of this statement can be imported: every line is a duplicate or has "
                  "a problem (listed below).")
            )  # fmt: skip
        numbers: dict[int, str] = {}
        for year in sorted({p.date.year for p in preview.lines}):
            of_year = [p for p in preview.lines if p.date.year == year]
            first = sequence_take(name=SEQUENCE, year=year, count=len(of_year))
            for offset, p in enumerate(of_year):
                numbers[p.line] = transaction_number_format(year=year, sequence=first + offset)
        rows = Transaction.objects.bulk_create(
            Transaction(
                number=numbers[p.line],
                kind=p.kind,
                direction=p.direction,
                date=p.date,
                amount=p.amount,
                vat_amount=p.vat_amount,
                payee=p.payee,
                description=p.description,
                reference=p.reference,
                branch=branch,
                budget=p.budget,
                employee=p.employee,
                created_by=user,
            )
            for p in preview.lines
        )
        TransactionEvent.objects.bulk_create(
            TransactionEvent(
                transaction=row,
                kind=TransactionEvent.Kind.CREATED,
                user=user,
                details={
                    "number": row.number,
                    "amount": str(row.amount),
                    "vat_amount": str(row.vat_amount),
                    "receipts": 0,
                    "statement": str(upload.token),
                    "line": p.line,
                },
            )
            for row, p in zip(rows, preview.lines, strict=True)
        )
        ordered = sorted(numbers.values())
        claimed.update(
            imported_at=timezone.now(),
            branch=branch,
            imported_count=len(rows),
            first_number=ordered[0],
            last_number=ordered[-1],
            duplicates=[d.as_data() for d in preview.duplicates],
            errors=[p.as_data() for p in preview.problems],
        )
    upload.refresh_from_db()
    return upload


def _dates(upload: StatementUpload, mapping: Mapping) -> set[datetime.date]:
    text = bytes(upload.content).decode(upload.encoding)
    found = set()
    for _line, cells in list(_records(text, upload.delimiter))[1:]:
        try:
            found.add(_date(cells[mapping.date], mapping))
        except (IndexError, ValueError):
            continue
    return found
