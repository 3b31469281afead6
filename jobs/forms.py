"""Forms shared by the admin and the dashboard."""

from django import forms
from django.forms.fields import InvalidJSONInput

from . import safe_json
from .definitions import get_task
from .signatures import argument_field, validate_arguments


class SafeJSONField(forms.JSONField):
    """A JSON form field parsed by jobs.safe_json: no RecursionError, NaN, huge integers, NUL or surrogates."""

    def to_python(self, value):
        if self.disabled or value in self.empty_values or not isinstance(value, str):
            return super().to_python(value)
        try:
            return safe_json.loads(value)
        except safe_json.UnsafeInput as exc:
            raise forms.ValidationError(exc.sentence) from None

    def bound_data(self, data, initial):
        # Django's own re-parses the submitted text to redisplay it, and crashes on what to_python refused.
        if self.disabled or data is None or not isinstance(data, str):
            return super().bound_data(data, initial)
        try:
            return safe_json.loads(data)
        except safe_json.UnsafeInput:
            return InvalidJSONInput(data)


class TaskArgumentsForm(forms.Form):
    """JSON args and kwargs, checked against the signature of the task `task_path()` names."""

    args = forms.CharField(initial="[]", widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
                           help_text="A JSON list.")
    kwargs = forms.CharField(initial="{}", widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
                             help_text="A JSON object.")

    def task_path(self):
        raise NotImplementedError  # each form knows where its task comes from

    def _json(self, name, kind):
        try:
            value = safe_json.loads(self.cleaned_data[name])
        except safe_json.UnsafeInput as exc:
            raise forms.ValidationError(exc.sentence) from None
        if not isinstance(value, kind):
            raise forms.ValidationError(f"Must be a JSON {'list' if kind is list else 'object'}.")
        return value

    def clean_args(self):
        return self._json("args", list)

    def clean_kwargs(self):
        return self._json("kwargs", dict)

    def clean(self):
        data = super().clean()
        path = self.task_path()
        if path and "args" in data and "kwargs" in data:
            try:
                task = get_task(path)
            except LookupError as exc:
                raise forms.ValidationError(str(exc)) from None
            try:
                validate_arguments(task, data["args"], data["kwargs"])
            except ValueError as exc:
                # Next to the field it is about, where the operator is looking.
                self.add_error(argument_field(str(exc)), str(exc))
        return data
