"""The memory page's forms: the filters of the list and the note a member writes or edits."""

from django import forms
from django.core.exceptions import ValidationError

from jobs import safe_json
from memory.models import Layer, Project, Topic

MAX_NOTE_CHARS = 20_000  # a note is read on a page; longer texts belong in a document
MAX_QUERY_CHARS = 2000  # like the search API's `q`
MAX_TAGS = 20
MAX_TAG_CHARS = 50


def refuse_unsafe(value):
    """A lone surrogate cannot be stored as UTF-8 (multipart bodies skip the middleware's check).

    NUL is CharField's own ProhibitNullCharactersValidator's, which says so once already.
    """
    try:
        safe_json.check_string(value.replace("\x00", ""))
    except safe_json.UnsafeInput as exc:
        raise ValidationError(exc.sentence) from None


class SafeCharField(forms.CharField):
    default_validators = [refuse_unsafe]


class MemoryFilterForm(forms.Form):
    """What the list shows: one project, optionally a query, a kind, a topic (with its subtopics), a date range."""

    project = forms.ModelChoiceField(queryset=Project.objects.none(), required=False, empty_label=None)
    q = SafeCharField(required=False, strip=True, max_length=MAX_QUERY_CHARS, label="Search",
                      error_messages={"max_length": f"A query is at most {MAX_QUERY_CHARS} characters."})
    kind = forms.ChoiceField(choices=[("", "any kind"), *Layer.choices], required=False)
    topic = forms.ModelChoiceField(queryset=Topic.objects.none(), required=False, empty_label="any topic")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data, projects, **kwargs):
        super().__init__(data, **kwargs)
        self.fields["project"].queryset = projects
        # Topics of the user's projects; clean() keeps only those of the chosen project.
        self.fields["topic"].queryset = Topic.objects.filter(project__in=projects)

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the range comes before its start.")
        topic, project = data.get("topic"), data.get("project")
        if topic is not None and project is not None and topic.project_id != project.pk:
            self.add_error("topic", "This topic belongs to another project.")
        return data


class NoteForm(forms.Form):
    """A note: its text, its kind (the memory's layer) and comma-separated tags (kept in metadata)."""

    content = SafeCharField(widget=forms.Textarea(attrs={"rows": 5}), strip=True, max_length=MAX_NOTE_CHARS,
                            label="Note",
                            error_messages={"max_length": f"A note is at most {MAX_NOTE_CHARS:,} characters."})
    kind = forms.ChoiceField(choices=Layer.choices, initial=Layer.EPISODIC)
    tags = SafeCharField(required=False, strip=True, max_length=MAX_TAGS * (MAX_TAG_CHARS + 2),
                         help_text="Comma-separated, e.g. release, backup")

    def clean_tags(self):
        tags = []
        for tag in (part.strip() for part in self.cleaned_data["tags"].split(",")):
            if not tag:
                continue
            if len(tag) > MAX_TAG_CHARS:
                raise ValidationError(f"A tag is at most {MAX_TAG_CHARS} characters.")
            if tag.lower() not in (known.lower() for known in tags):
                tags.append(tag)
        if len(tags) > MAX_TAGS:
            raise ValidationError(f"At most {MAX_TAGS} tags.")
        return tags


class NewNoteForm(NoteForm):
    """A note to write: also which project it goes to (only those the user may write to)."""

    project = forms.ModelChoiceField(queryset=Project.objects.none(), empty_label=None)
    field_order = ["project", "kind", "content", "tags"]

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        self.fields["project"].label_from_instance = lambda p: f"{p.workspace.name} / {p.name}"


def tags_of(memory):
    """The tags of a memory as a list of strings (metadata written elsewhere may hold anything)."""
    tags = (memory.metadata or {}).get("tags") if isinstance(memory.metadata, dict) else None
    return [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else []
