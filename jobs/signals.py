"""Signals the job platform sends; the live-progress layer listens to them."""

from django.dispatch import Signal

# Sent after a progress write reached the ledger: run, done, total, message.
run_progress = Signal()
# Sent after a run changed status in a worker: run, status (started, succeeded, failed, dead, cancelled).
run_status_changed = Signal()
