"""The Qoyod column of an invoice row and of the invoice header, drawn in Python.

The invoice list draws it 25 times a page, and as nested templates it was most of the page's
CPU: here each part is one format_html (core.html has the escaping rules).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.timezone import localtime

from core.html import joined, markup, sentence
from core.html import trans as _
from core.templatetags.display import money
from invoicing.models import Invoice
from payments.models import QoyodPaymentState
from qoyod_sync.models import QoyodInvoiceSync, SyncState
from qoyod_sync.status import QoyodStanding

S = SyncState
_EMPTY = SafeString("")


@dataclass(frozen=True)
class CellForm:
    """A button's form: its URL is both the action and, in a row, the htmx target's POST."""

    url: str
    in_row: bool
    invoice_pk: int
    csrf_token: object
    next_path: str


@dataclass(frozen=True)
class Cell:
    invoice: Invoice
    sync: QoyodInvoiceSync | None
    state: str
    standing: QoyodStanding | None
    qoyod_url: str
    payment: QoyodPaymentState | None
    # The form of Send (can_send) or Retry (can_retry), when the user may press either.
    send: CellForm | None
    can_send: bool
    message: str
    message_ok: bool
    show_payment: bool
    pending: bool
    refresh: CellForm | None
    refresh_message: str
    refresh_ok: bool


def _form(form: CellForm, button: SafeString) -> SafeString:
    htmx = (
        markup(
            ' hx-post="{}" hx-target="#invoice-row-{}" hx-swap="outerHTML"'
            ' hx-disabled-elt="find button"',
            form.url,
            form.invoice_pk,
        )
        if form.in_row
        else _EMPTY
    )
    return markup(
        '<form method="post" action="{}" class="d-inline"{}>\n'
        '    <input type="hidden" name="csrfmiddlewaretoken" value="{}">\n'
        '    <input type="hidden" name="next" value="{}">\n'
        "    {}\n  </form>",
        form.url,
        htmx,
        form.csrf_token,
        form.next_path,
        button,
    )


def _reason_popover(reason: str, qoyod_message: str, *, testid: str, danger: bool) -> SafeString:
    """Why a step failed: a short button whose popover (static/js/app.js) holds the sentence
    and Qoyod's own words, so the row stays narrow and nothing is cut off."""
    content = conditional_escape(reason)
    if qoyod_message:
        content = markup("{} — {} “{}”", content, _("Qoyod's message:"), qoyod_message)
    return markup(
        '<button type="button" class="btn btn-sm btn-link p-0 {} text-nowrap"'
        ' data-bs-toggle="popover" data-bs-trigger="focus" data-bs-placement="bottom"'
        ' data-bs-title="{}" data-bs-content="{}" data-testid="{}">{}</button>',
        "link-danger" if danger else "link-secondary",
        _("Why"),
        content,
        testid,
        _("Why?"),
    )


def _standing_badge(standing: QoyodStanding | None) -> SafeString:
    """Qoyod's own state of the invoice's draft (qoyod_sync.status.qoyod_standing): one badge."""
    if standing is None:
        return _EMPTY
    if standing.code in ("returned", "deleted"):
        label = conditional_escape(standing.label)
    else:
        label = sentence(_("In Qoyod: %(status)s"), status=standing.label)
    return markup(
        '<span class="badge text-bg-{}" data-testid="{}" data-qoyod-standing="{}" title="{}">'
        "{}</span>",
        standing.tone,
        "qoyod-returned" if standing.code == "returned" else "qoyod-status",
        standing.code,
        standing.next_step,
        label,
    )


def _draft_parts(cell: Cell) -> list[SafeString]:
    sync, payment = cell.sync, cell.payment
    parts = [_standing_badge(cell.standing)]
    if sync is not None and sync.qoyod_invoice_id:
        text = sentence(_("Qoyod id %(id)s"), id=sync.qoyod_invoice_id)
        if cell.qoyod_url:
            parts.append(
                markup(
                    '<a class="small text-nowrap" href="{}" target="_blank" rel="noopener"'
                    ' data-testid="qoyod-id" title="{}">{}</a>',
                    cell.qoyod_url,
                    _("Open in Qoyod"),
                    text,
                )
            )
        else:
            parts.append(
                markup('<span class="small text-nowrap" data-testid="qoyod-id">{}</span>', text)
            )
    if (
        sync is not None
        and sync.total_difference
        and not (payment is not None and payment.has_total_difference)
    ):
        parts.append(
            markup(
                '<span class="badge text-bg-warning" title="{}">{}</span>',
                sentence(_("Qoyod's total is %(theirs)s SAR"), theirs=sync.qoyod_total),
                sentence(_("Total differs by %(diff)s"), diff=sync.total_difference),
            )
        )
    if sync is not None and sync.stock_shortage:
        parts.append(
            markup(
                '<div class="w-100 small text-warning-emphasis" data-testid="qoyod-stock-short">'
                "{}</div>",
                sync.stock_shortage_text,
            )
        )
    return parts


def _unsent_parts(cell: Cell) -> list[SafeString]:
    """A draft not (yet) in Qoyod: its state, and Send or Retry for those who may."""
    sync = cell.sync
    if cell.state == S.UNKNOWN:
        parts = [
            markup('<span class="badge text-bg-warning">{}</span>', _("May already exist in Qoyod"))
        ]
    elif cell.state == S.REFERENCE_COLLISION:
        parts = [
            markup(
                '<span class="badge text-bg-danger" data-testid="qoyod-collision">{}</span>',
                _("Number already used in Qoyod"),
            )
        ]
    elif cell.state == S.FAILED:
        parts = [markup('<span class="badge text-bg-danger">{}</span>', _("Qoyod sync failed"))]
        if sync is not None and sync.failure_kind:
            parts.append(markup('<span class="small">{}</span>', sync.get_failure_kind_display()))
    else:
        parts = [markup('<span class="badge text-bg-light border">{}</span>', _("Ready to send"))]
    if cell.send is not None:
        if cell.can_send:
            button = ("btn-primary", "qoyod-send", _("Send draft to Qoyod"))
        else:
            button = ("btn-warning", "qoyod-retry", _("Retry Qoyod sync"))
        parts.append(
            _form(
                cell.send,
                markup(
                    '<button type="submit" class="btn btn-sm {} text-nowrap" data-testid="{}">'
                    "{}</button>",
                    *button,
                ),
            )
        )
    return parts


def _message(text: str, ok: bool, testid: str) -> SafeString:
    return markup(
        '<div class="w-100 small {}" role="status" data-testid="{}">{}</div>',
        "text-success" if ok else "text-danger",
        testid,
        text,
    )


def _payment_part(cell: Cell) -> SafeString:
    """The payment state read back from Qoyod, with Refresh from Qoyod."""
    payment = cell.payment
    parts: list[SafeString] = []
    if payment is not None and payment.qoyod_status and payment.qoyod_status != "missing":
        parts.append(
            markup(
                '<span class="small text-nowrap" data-testid="qoyod-paid">{}</span>',
                sentence(
                    _("paid %(paid)s of %(total)s"),
                    paid=money(payment.qoyod_paid),
                    total=money(payment.qoyod_total),
                ),
            )
        )
    if payment is not None and payment.has_total_difference:
        parts.append(
            markup(
                '<span class="badge text-bg-warning" data-testid="qoyod-total-difference"'
                ' title="{}">{}</span>',
                sentence(
                    _("Qoyod's total is %(theirs)s SAR, ours %(ours)s SAR."),
                    theirs=money(payment.qoyod_total),
                    ours=money(cell.invoice.total),
                ),
                sentence(
                    _("Qoyod total differs by %(diff)s"),
                    diff=money(payment.total_difference),
                ),
            )
        )
    refreshed_at = payment.refreshed_at if payment is not None else None
    if cell.pending:
        when = markup(
            '<span class="spinner-border spinner-border-sm" aria-hidden="true"></span> {}',
            _("Refreshing from Qoyod…"),
        )
    elif refreshed_at:
        when = sentence(_("Refreshed %(when)s"), when=naturaltime(refreshed_at))
    else:
        when = _("Not refreshed yet")
    title = (
        markup(' title="{}"', date_format(localtime(refreshed_at), "DATETIME_FORMAT"))
        if refreshed_at
        else _EMPTY
    )
    parts.append(
        markup(
            '<span class="small text-body-secondary text-nowrap" data-testid="qoyod-refreshed"{}>'
            "{}</span>",
            title,
            when,
        )
    )
    if cell.refresh is not None:
        parts.append(
            _form(
                cell.refresh,
                markup(
                    '<button type="submit" class="btn btn-sm btn-outline-secondary text-nowrap"'
                    ' data-testid="qoyod-refresh">{}</button>',
                    _("Refresh from Qoyod"),
                ),
            )
        )
    if cell.refresh_message:
        parts.append(_message(cell.refresh_message, cell.refresh_ok, "qoyod-refresh-message"))
    elif payment is not None and payment.failed_last_time:
        parts.append(
            _reason_popover(
                payment.last_error, payment.qoyod_message, testid="qoyod-refresh-error", danger=True
            )
        )
    return markup(
        '<div class="qoyod-payment d-flex flex-wrap align-items-center gap-1 mt-1"'
        ' data-testid="qoyod-payment" data-qoyod-status="{}">\n{}\n</div>',
        payment.qoyod_status if payment is not None else "",
        joined(parts),
    )


def cell_html(cell: Cell) -> SafeString:
    """The sync state and its actions, then (managed invoices) the payment state."""
    sync, state = cell.sync, cell.state
    if state == S.NOT_REQUIRED:
        parts = [markup('<span class="text-body-secondary small">{}</span>', _("Not required"))]
    elif state == S.DRAFT_CREATED:
        parts = _draft_parts(cell)
    elif state == S.SENDING:
        parts = [markup('<span class="badge text-bg-info">{}</span>', _("Being sent to Qoyod…"))]
    else:
        parts = _unsent_parts(cell)
    if cell.message:
        parts.append(_message(cell.message, cell.message_ok, "qoyod-message"))
    elif sync is not None and sync.reason and state not in (S.DRAFT_CREATED, S.NOT_REQUIRED):
        parts.append(
            _reason_popover(sync.reason, sync.qoyod_message, testid="qoyod-reason", danger=False)
        )
    html = markup(
        '<div class="qoyod-cell d-flex flex-wrap align-items-center gap-1"'
        ' data-testid="qoyod-cell" data-state="{}">\n{}\n</div>',
        state,
        joined(parts),
    )
    if cell.show_payment:
        html = markup("{}\n{}", html, _payment_part(cell))
    return html
