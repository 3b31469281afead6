"""The run API: list, read, enqueue, cancel and retry runs over JSON (schema: jobs/api/openapi.json).

Who may call it is decided by JOBS_API_AUTHENTICATORS (each sets request.user or answers with an
error response; the project plugs in its bearer tokens there, since jobs knows no token model),
then by the same rule as the dashboard: active staff with `jobs.view_jobrun` read, and
`jobs.change_jobrun` enqueues, cancels and retries.
"""
