"""Check JSON arguments against a task's signature before they become a run."""

import inspect

from .safe_json import UnsafeInput, check_value


def _parameters(task):
    signature = inspect.signature(task.func)
    if task.takes_context:
        params = list(signature.parameters.values())[1:]  # `context` is supplied by the runner
        signature = signature.replace(parameters=params)
    return signature


def validate_arguments(task, args, kwargs):
    """Raise ValueError naming the argument if `args`/`kwargs` are not JSON-safe or do not bind to the task."""
    signature = _parameters(task)
    positional = [p.name for p in signature.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not isinstance(args, (list, tuple)):
        raise ValueError("args must be a JSON list")
    if not isinstance(kwargs, dict):
        raise ValueError("kwargs must be a JSON object")
    for index, value in enumerate(args):
        name = positional[index] if index < len(positional) else f"args[{index}]"
        try:
            check_value(value, f"argument {name!r}" if index < len(positional) else name)
        except UnsafeInput as exc:
            raise ValueError(f"{task.module_path}: {exc}") from None
    for key, value in kwargs.items():
        try:
            check_value(key, "keyword argument name")
            check_value(value, f"argument {key!r}")
        except UnsafeInput as exc:
            raise ValueError(f"{task.module_path}: {exc}") from None
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise ValueError(f"arguments do not match {task.module_path}{signature}: {exc}") from None


def describe(task):
    """The task as a form shows it: {"signature": "(memory_id, *, force=False)", "doc": "..."}."""
    return {"signature": str(_parameters(task)), "doc": inspect.getdoc(task.func) or ""}


def hints(tasks):
    """{module_path: describe(task)} for every task, for the enqueue and schedule forms' hint."""
    return {task.module_path: describe(task) for task in tasks}


def argument_field(message):
    """Which form field an argument error belongs next to: "kwargs" for keyword trouble, else "args"."""
    return "kwargs" if "keyword" in message else "args"
