"""The one door to Qoyod (API 2.0): every HTTP call to Qoyod goes through this package.

    reader = QoyodReader(base_url=connection.base_url, api_key=key)
    writer = QoyodWriter(base_url=connection.base_url, api_key=key)   # writer.reader for lookups

transport.py holds httpx, the pooled clients, deadlines and the mapping of every outcome to a
typed error from qoyod_sync.errors; reader.py the read-only QoyodReader that background tasks
get; writer.py the QoyodWriter of the send path. Reads are retried, writes never are.
"""

from qoyod_sync.client.reader import PAGE_SIZE, QoyodReader
from qoyod_sync.client.transport import (
    ClientOptions,
    RetryPolicy,
    close_pooled_clients,
    quick_options,
)
from qoyod_sync.client.writer import QoyodWriter

__all__ = [
    "PAGE_SIZE",
    "ClientOptions",
    "QoyodReader",
    "QoyodWriter",
    "RetryPolicy",
    "close_pooled_clients",
    "quick_options",
]
