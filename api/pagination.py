"""Cursor pagination for every API list: a page is a keyset range (no COUNT, no OFFSET), so
pages stay fast at any depth and a row added while a client walks the list is not skipped."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    ordering: str | tuple[str, ...] = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class FinanceQueuePagination(ApiCursorPagination):
    # The order items entered the queue in (the invoice_finance_queue index); ties in the
    # timestamp fall back to DRF's in-position offset, which stays within one timestamp.
    ordering = ("finance_queued_at", "id")
