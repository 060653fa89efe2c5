"""Reading payment state back from Qoyod (design.md §5), beside push/ which sends drafts.

    fetch.py   the reads: claim a batch, ask Qoyod (no transaction open), record through payments
    views.py   Refresh from Qoyod, Refresh Qoyod, the stale-row check and the poll
    urls.py    their routes, inside the qoyod_sync namespace
    tags.py    the `qoyod_refresh` template tags the invoice pages load

Claims and the recording of payment state are payments' services; this package only reads.
"""
