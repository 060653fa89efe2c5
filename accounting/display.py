"""The transaction list's rows, drawn in Python.

The list shows 50 rows a page, and as template tags, filters and an include per row they were
most of its CPU (about 0.6 ms a row): here a row is a few markup calls (core.html has the
escaping rules), with the CSRF input, the verify URL and the return query read once a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.formats import date_format, localize
from django.utils.safestring import SafeString

from accounting.models import Transaction
from core.html import joined, markup
from core.html import trans as _
from core.templatetags.display import ltr, money

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

S = Transaction.SyncState
_NOTHING = SafeString("")
_DASH = "—"
_STATE_LABELS: dict[str, StrOrPromise] = dict(S.choices)
_STATE_TONES: dict[str, str] = {
    S.SYNCED: "text-bg-success",
    S.FAILED: "text-bg-danger",
    S.UNKNOWN: "text-bg-warning",
    S.SENDING: "text-bg-info",
}


@dataclass(frozen=True)
class RowPage:
    """What every row of one page shares."""

    can_verify: bool
    sync_tab: bool
    csrf_input: SafeString
    verify_url: str
    next_query: str


_ROW = """
    <tr data-number="{}" data-pk="{}">
      {}
      <td dir="ltr">{}</td>
      <td>{}</td>
      <td>{}</td>
      <td>{}</td>
      <td>{}</td>
      <td>{}</td>
      <td class="text-end">{}</td>
      <td class="text-end">{}</td>
      <td>{}</td>
      <td>{}</td>
      <td data-sync-cell>{}</td>
      {}
    </tr>
  """

_VERIFY = (
    "<td>\n"
    '        <form method="post" action="{}" class="d-flex gap-1 mb-0">\n'
    '          {}<input type="hidden" name="pk" value="{}">'
    '<input type="hidden" name="next_query" value="{}">\n'
    "          {}\n"
    "        </form>\n"
    "      </td>"
)


def sync_cell(row: Transaction) -> SafeString:
    """Where the transaction stands with Qoyod: the state, the document, and why it failed."""
    state = row.state
    parts = [
        markup(
            '<span class="badge {}" data-sync-state>{}</span>',
            _STATE_TONES.get(state, "text-bg-secondary"),
            _STATE_LABELS.get(state, state),
        ),
        markup(
            ' <span class="small" data-sync-document>{}</span>', _("Draft expense bill in Qoyod")
        )
        if row.qoyod_entry_id and row.qoyod_document == Transaction.Document.SIMPLE_BILL
        else _NOTHING,
        _entry(row),
        _reason(row) if state in (S.FAILED, S.UNKNOWN) else _NOTHING,
        _problems(row.sync_problems),  # type: ignore[attr-defined]  # set by list_context
    ]
    return joined(parts)


def _entry(row: Transaction) -> SafeString:
    if not row.qoyod_entry_id:
        return _NOTHING
    status = (
        markup(' <span class="small">(<bdi>{}</bdi>)</span>', row.qoyod_entry_status)
        if row.qoyod_entry_status
        else _NOTHING
    )
    return markup(
        '<bdi dir="ltr" data-sync-entry>#{}</bdi>{}', localize(row.qoyod_entry_id), status
    )


def _reason(row: Transaction) -> SafeString:
    said = (
        markup(" {} <bdi>{}</bdi>", _("Qoyod said:"), row.qoyod_message)
        if row.qoyod_message
        else _NOTHING
    )
    return markup('<div class="small text-danger" data-sync-reason>{}{}</div>', row.reason, said)


def _problems(problems: list[str]) -> SafeString:
    if not problems:
        return SafeString("\n")
    items = joined([markup("<li>{}</li>", problem) for problem in problems], "")
    return markup(
        '<ul class="small text-warning-emphasis ps-3 mb-0" data-sync-problems>{}</ul>\n', items
    )


def _verify_form(row: Transaction, page: RowPage) -> SafeString:
    if row.verified_at:
        undo = (
            markup(
                '<input type="hidden" name="undo" value="1"><button type="submit"'
                ' class="btn btn-sm btn-outline-secondary">{}</button>',
                _("Un-verify"),
            )
            if row.can_unverify
            else _NOTHING
        )
        button = markup("{}\n          ", undo)
    else:
        lost = _("Receipt lost: why?")
        reason = (
            _NOTHING
            if row.receipt_count  # type: ignore[attr-defined]  # selectors.transaction_list
            else markup(
                '<input type="text" name="receipt_lost_reason" class="form-control form-control-sm"'
                ' placeholder="{}" aria-label="{}">',
                lost,
                lost,
            )
        )
        button = markup(
            '{}<button type="submit" class="btn btn-sm btn-success">{}</button>',
            reason,
            _("Verify"),
        )
    return markup(_VERIFY, page.verify_url, page.csrf_input, row.pk, page.next_query, button)


def transaction_row(row: Transaction, page: RowPage) -> SafeString:
    """One transaction of the list, with its Qoyod state and, for a verifier, its checkbox
    (for the bulk assign, or the journal sync on the Verified tab) and its Verify form."""
    employee = row.employee
    select = (
        markup(
            '<td><input class="form-check-input" type="checkbox" name="pk" value="{}" form="{}"'
            ' aria-label="{}"></td>',
            row.pk,
            "journal-sync" if page.sync_tab else "bulk-assign",
            row.number,
        )
        if page.can_verify
        else _NOTHING
    )
    return markup(
        _ROW,
        row.number,
        row.pk,
        select,
        row.number,
        date_format(row.date, "SHORT_DATE_FORMAT"),
        row.payee or row.description,
        row.branch.name,
        row.budget.name if row.budget and row.budget.name else _DASH,
        (employee.get_full_name() or employee.username) if employee else _DASH,
        ltr(money(row.amount)),
        ltr(money(row.vat_amount)),
        localize(row.receipt_count),  # type: ignore[attr-defined]
        row.account if row.account else _DASH,
        sync_cell(row),
        _verify_form(row, page) if page.can_verify else _NOTHING,
    )
