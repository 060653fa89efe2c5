"""GET /invoices/{id}/pdf: Qoyod's own PDF of an invoice, behind a temporary public address.

Qoyod renders the PDF, uploads it and answers `{"pdf_file": <temporary public URL>,
"expire_at": ...}` (the published YAML); the sandbox serves a one-page PDF of the invoice under
/_sandbox/files/ instead. Drafts are refused as not printable: the YAML's 422 does not say when
Qoyod refuses, and the sandbox must not be kinder than Qoyod, so only approved invoices print.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from qoyod_sync.sandbox.company import Company
from qoyod_sync.sandbox.records import ApiError, money

# How long the address stays valid, as Qoyod's S3 links expire.
EXPIRES = timedelta(minutes=10)


def invoice_pdf_link(company: Company, raw_id: str, files_url: str) -> dict[str, str]:
    invoice = company.invoices.get(int(raw_id)) if raw_id.isdigit() else None
    if invoice is None:
        raise ApiError(404, "We found nothing")
    if not invoice.approved:
        raise ApiError(422, {"error": "Invoice is not printable"})
    expire_at = datetime.now(UTC) + EXPIRES
    return {
        "pdf_file": f"{files_url}/{company.number}/invoice-{invoice.id}.pdf",
        "expire_at": expire_at.isoformat(timespec="seconds"),
    }


def invoice_pdf(company: Company, invoice_id: int) -> bytes:
    """A one-page PDF naming the invoice, its status and its total (ASCII: a stand-in only)."""
    invoice = company.invoices.get(invoice_id)
    if invoice is None or not invoice.approved:
        raise ApiError(404, {"error": "Not Found"})
    lines = [
        f"{company.name} - tax invoice (Qoyod sandbox, not real Qoyod)",
        f"Reference {invoice.reference}   Issued {invoice.issue_date}   Status {invoice.status}",
        f"Total {money(invoice.total)} SAR   Paid {money(invoice.paid)}   Due {money(invoice.due)}",
    ]
    return _one_page(lines)


def _one_page(lines: list[str]) -> bytes:
    def text(value: str) -> str:
        safe = value.encode("ascii", "replace").decode()
        return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = "BT /F1 12 Tf 50 780 Td 16 TL " + " ".join(f"({text(s)}) '" for s in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    out += trailer.encode()
    return bytes(out)
