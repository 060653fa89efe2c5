"""The ground floor every app may import: money, numbering, search fragments, form styling and
roles. It imports only Django and the standard library, never another app of this project."""
