"""Month close artifacts and their reproduction from raw.

marts.py      the finance marts of a set of SQLMesh snapshots (review policy), their columns
artifact.py   a mart's month as CSV in a fixed row order; ops.month_close_artifacts
scratch.py    a scratch SQLMesh context of recorded model versions, its plan and its removal
reproduce.py  `brightcart reproduce YYYY-MM`: rebuild from raw, compare byte for byte
"""
