"""Input forms of the API: query strings and JSON bodies, with unknown fields rejected."""

import base64
import binascii
from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError

from jobs import safe_json
from memory.core.api_auth import InvalidInput
from memory.models import Layer, Project, Source

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_QUERY_CHARS = 2000  # 200+ words fit; longer texts belong in a memory, not a query
NUMERIC_FIELDS = (forms.IntegerField, forms.FloatField, forms.ModelChoiceField)


class ApiForm(forms.Form):
    """A form over a dict that rejects fields it does not declare and values of the wrong JSON type."""

    writes = False  # a form that creates rows offers only the projects the user may write to

    def __init__(self, data, user=None, **kwargs):
        super().__init__(data, **kwargs)
        self.user = user
        if "project" in self.fields:
            projects = Project.objects.editable_by(user) if self.writes else Project.objects.visible_to(user)
            self.fields["project"].queryset = projects.only("id", "workspace_id")

    def full_clean(self):
        # A wrong JSON type never reaches a field's to_python(): CharField would str() a list, FloatField
        # overflow on a 400-digit integer, ChoiceField fail to hash a dict.
        wrong = {name: self._type_error(name, value) for name, value in self.data.items()}
        wrong = {name: message for name, message in wrong.items() if message}
        if wrong:
            self.data = {name: value for name, value in self.data.items() if name not in wrong}
        super().full_clean()
        for name, message in wrong.items():
            self.cleaned_data.pop(name, None)
            self._errors.setdefault(name, self.error_class()).append(message)

    def _type_error(self, name, value):
        field = self.fields.get(name)
        if field is None:
            return "Unknown field."
        if value is None or isinstance(field, forms.JSONField):
            return None  # JSON values were checked by safe_json when the body was parsed
        if isinstance(value, str):
            try:
                safe_json.check_string(value)
            except safe_json.UnsafeInput as exc:
                return exc.sentence
            return None
        if isinstance(field, NUMERIC_FIELDS) and isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                safe_json.check_number(value)
            except safe_json.UnsafeInput as exc:
                return exc.sentence
            return None
        return "Enter a number." if isinstance(field, NUMERIC_FIELDS) else "Enter a string."

    def validated(self):
        """The cleaned data, or raise InvalidInput with the field errors."""
        if not self.is_valid():
            raise InvalidInput({name: list(messages) for name, messages in self.errors.items()})
        return self.cleaned_data

    def given(self):
        """The cleaned values of the fields present in the input (for partial updates)."""
        data = self.validated()
        return {name: data[name] for name in self.data}


class SafeDateTimeField(forms.DateTimeField):
    """A date-time whose UTC instant lies within what Python and PostgreSQL both keep."""

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return safe_json.check_datetime(value)
        except safe_json.UnsafeInput as exc:
            raise ValidationError(exc.sentence) from None


class ObjectField(forms.JSONField):
    """A JSON object (a dict); the metadata of a memory."""

    def to_python(self, value):
        if value == {}:
            return {}  # JSONField counts {} as empty (None); an empty object is a valid value here
        value = super().to_python(value)
        if value is not None and not isinstance(value, dict):
            raise ValidationError("Enter a JSON object.")
        return value

    def bound_data(self, data, initial):
        return data


class StringListField(forms.JSONField):
    """A JSON list of non-empty strings; a decision's options."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise ValidationError("Enter a list of non-empty strings.")
        return [item.strip() for item in value]

    def bound_data(self, data, initial):
        return data


class CursorField(forms.CharField):
    """An opaque keyset cursor: the (created_at, id) of the last row of the previous page."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            created_at, _, pk = base64.urlsafe_b64decode(value.encode()).decode().partition("|")
            return (safe_json.check_datetime(datetime.fromisoformat(created_at)),
                    safe_json.check_number(int(pk)))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValidationError("Invalid cursor.") from None

    @staticmethod
    def encode(memory):
        return base64.urlsafe_b64encode(f"{memory.created_at.isoformat()}|{memory.pk}".encode()).decode()


class MemoryFilterForm(ApiForm):
    project = forms.ModelChoiceField(queryset=Project.objects.none(), required=False)
    layer = forms.ChoiceField(choices=Layer.choices, required=False)
    source = forms.ChoiceField(choices=Source.choices, required=False)
    created_after = SafeDateTimeField(required=False)
    created_before = SafeDateTimeField(required=False)
    limit = forms.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False)
    cursor = CursorField(required=False)


class MemoryCreateForm(ApiForm):
    writes = True
    project = forms.ModelChoiceField(queryset=Project.objects.none())
    content = forms.CharField(strip=True)
    layer = forms.ChoiceField(choices=Layer.choices, required=False)
    source = forms.ChoiceField(choices=Source.choices, required=False)
    importance = forms.FloatField(min_value=0, max_value=1, required=False)
    metadata = ObjectField(required=False)


class MemoryChangeForm(ApiForm):
    content = forms.CharField(strip=True, required=False)
    layer = forms.ChoiceField(choices=Layer.choices, required=False)
    importance = forms.FloatField(min_value=0, max_value=1, required=False)
    strength = forms.FloatField(min_value=0, max_value=1, required=False)
    metadata = ObjectField(required=False)
    expires_at = SafeDateTimeField(required=False)  # null clears it

    def clean(self):
        data = super().clean()
        # Every field is optional, but one that is given must not be emptied (except expires_at).
        for name in ("content", "layer", "importance", "strength", "metadata"):
            if name in self.data and data.get(name) in (None, "") and name not in self.errors:
                self.add_error(name, "This field cannot be empty.")
        return data


class SearchForm(ApiForm):
    q = forms.CharField(strip=True, max_length=MAX_QUERY_CHARS,
                        error_messages={"max_length": f"A query is at most {MAX_QUERY_CHARS} characters."})
    project = forms.ModelChoiceField(queryset=Project.objects.none(), required=False)
    limit = forms.IntegerField(min_value=1, max_value=50, required=False)


class TopicTreeForm(ApiForm):
    project = forms.ModelChoiceField(queryset=Project.objects.none(), required=False)


class GraphForm(ApiForm):
    project = forms.ModelChoiceField(queryset=Project.objects.none(), required=False)
    limit = forms.IntegerField(min_value=1, max_value=500, required=False)


class MessageForm(ApiForm):
    content = forms.CharField(strip=True)


class DecisionForm(ApiForm):
    writes = True
    project = forms.ModelChoiceField(queryset=Project.objects.none())
    title = forms.CharField(max_length=300, strip=True)
    context = forms.CharField(required=False)
    options = StringListField(required=False)
    chosen = forms.CharField(max_length=300, required=False)
    rationale = forms.CharField(required=False)
