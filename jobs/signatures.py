"""Check JSON arguments against a task's signature before they become a run."""

import inspect


def validate_arguments(task, args, kwargs):
    """Raise ValueError if `args`/`kwargs` cannot be bound to the task's function."""
    signature = inspect.signature(task.func)
    if task.takes_context:
        params = list(signature.parameters.values())[1:]  # `context` is supplied by the runner
        signature = signature.replace(parameters=params)
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise ValueError(f"arguments do not match {task.module_path}{signature}: {exc}") from None
