"""The retry queue's rows, drawn in Python, and Qoyod's own words as every page shows them.

The queue shows 50 rows a page, and as template tags and filters each row cost about 1.5 ms of
CPU (a failure kind's label alone hashed every label of the choices): here a row is one markup
call (core.html has the escaping rules), with the CSRF input and the return path read once.
"""

from __future__ import annotations

from django.utils.formats import date_format, localize
from django.utils.safestring import SafeString
from django.utils.timezone import localtime

from core.html import markup
from core.html import trans as _
from core.reversing import reverse_cached
from core.templatetags.display import ltr
from qoyod_sync.models import FailureKind, QoyodInvoiceSync, SyncState
from qoyod_sync.selectors import FixLink
from qoyod_sync.status import Action, SyncStatus

_NOTHING = SafeString("")
_FAILURE_LABELS = dict(FailureKind.choices)

_ROW = """
    <tr id="retry-row-{}">
      <td><a href="{}">{}</a>{}</td>
      <td dir="auto">{}</td>
      <td><span class="badge {}">{}</span></td>
      <td class="small">{}<span class="text-pre-line">{}</span>{}
</td>
      <td class="text-end">{}</td>
      <td class="small text-nowrap">{}{}</td>
      <td class="text-nowrap">
        {}
        {}
      </td>
    </tr>
  """

_RETRY = """
        <form method="post" action="{}" class="d-inline">{}
          <input type="hidden" name="next" value="{}">
          <button type="submit" class="btn btn-sm btn-warning">{}</button>
        </form>
        """


def qoyod_words(text: str, css: str = "d-block small") -> SafeString:
    """Qoyod's own words, labelled as Qoyod's and shown as Qoyod wrote them, never translated
    (the pages use it as {% qoyod_words text %})."""
    if not text:
        return _NOTHING
    return markup(
        '<span class="{}" data-testid="qoyod-words"><span class="text-body-secondary">{}</span>'
        ' <q dir="auto">{}</q></span>',
        css,
        _("Qoyod's message:"),
        text,
    )


def retry_row(
    sync: QoyodInvoiceSync,
    fix: FixLink | None,
    status: SyncStatus,
    *,
    csrf_input: SafeString,
    next_path: str,
) -> SafeString:
    """One invoice of the retry queue: what failed and why, and the way to fix or retry it."""
    invoice = sync.invoice
    kind = sync.failure_kind
    by = sync.last_attempt_by
    if status.can_retry:
        action = markup(
            _RETRY,
            reverse_cached("qoyod_sync:invoice_retry", sync.invoice_id),
            csrf_input,
            next_path,
            _("Retry Qoyod sync"),
        )
    else:
        action = markup(
            '<span class="small text-body-secondary">{}</span>', status.refusal(Action.RETRY) or ""
        )
    return markup(
        _ROW,
        sync.invoice_id,
        reverse_cached("invoicing:invoice_detail", sync.invoice_id),
        invoice.number,
        markup(' <span class="badge text-bg-secondary">{}</span>', _("Void"))
        if invoice.is_void
        else _NOTHING,
        invoice.customer.name,
        "text-bg-warning" if status.state == SyncState.UNKNOWN else "text-bg-danger",
        status.label,
        markup("<strong>{}.</strong> ", _FAILURE_LABELS.get(kind, kind)) if kind else _NOTHING,
        sync.reason,
        qoyod_words(sync.qoyod_message),
        localize(sync.attempts),
        ltr(date_format(localtime(sync.last_attempt_at), "SHORT_DATETIME_FORMAT"))
        if sync.last_attempt_at
        else _NOTHING,
        markup("<br>{}", by.get_full_name() or by.username) if by else _NOTHING,
        markup('<a class="btn btn-sm btn-outline-secondary" href="{}">{}</a>', fix.url, fix.label)
        if fix
        else _NOTHING,
        action,
    )
