"""Signals the job platform sends; the live-progress layer listens to them."""

from django.dispatch import Signal

# Sent after a progress write reached the ledger: run, done, total, message.
run_progress = Signal()
# Sent by JobRun's transition methods (and only by them) after a status change was written:
# run, status (the new status, or "started" for a claim), old_status (None for a claim).
# Statuses: pending, queued, scheduled (the outbox), started, succeeded, failed, dead, cancelled.
run_status_changed = Signal()
