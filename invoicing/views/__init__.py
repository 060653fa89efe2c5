"""Invoice pages: the lists (lists.py), generate and edit (edit.py), one invoice (document.py)."""
