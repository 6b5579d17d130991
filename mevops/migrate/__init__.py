"""Migrate a legacy nodes directory into the standardized tree without losing a byte.

scan (names.py, contents.py, detect.py, hazards.py, scan.py) → plan (layout.py, plan.py) →
apply (journal.py, copy.py, apply.py, rewrite.py) → verify / rollback / status.
"""
