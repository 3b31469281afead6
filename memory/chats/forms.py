"""Forms of the chat pages: upload an export, start an analysis run, start an experiment."""

import datetime as dt

from django import forms
from django.utils import timezone

from memory.conf import memory_settings
from memory.core.tenancy import Project, Workspace

from .models import AgentConfig, Chat, ClassificationExperiment


def upload_max_bytes():
    return memory_settings.CHATS_UPLOAD_MAX_BYTES


class WorkspaceForm(forms.Form):
    workspace = forms.ModelChoiceField(queryset=Workspace.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspace"].queryset = Workspace.objects.editable_by(user)  # creating work needs a writer
        if "chat" in self.fields:
            self.fields["chat"].queryset = Chat.objects.visible_to(user)
        if "project" in self.fields:
            self.fields["project"].queryset = Project.objects.editable_by(user)


class ExportUploadForm(WorkspaceForm):
    export = forms.FileField(help_text="result.json of a Telegram Desktop export (one chat or all chats).")

    def clean_export(self):
        upload = self.cleaned_data["export"]
        limit = upload_max_bytes()
        if upload.size > limit:
            raise forms.ValidationError(f"The file is {upload.size:,} bytes; the limit is {limit:,}.")
        return upload


def _default_start():
    return timezone.now() - dt.timedelta(days=30)


class AnalysisRunForm(WorkspaceForm):
    chat = forms.ModelChoiceField(queryset=Chat.objects.none(), required=False, empty_label="every chat")
    window_start = forms.DateTimeField(initial=_default_start)
    window_end = forms.DateTimeField(initial=timezone.now)
    keywords = forms.CharField(required=False, help_text="Comma-separated; a message must contain one.")
    min_length = forms.IntegerField(min_value=0, initial=0)
    mentions_only = forms.BooleanField(required=False)
    batch_size = forms.IntegerField(min_value=1, max_value=500, initial=50)
    use_rag = forms.BooleanField(required=False, label="Use RAG context")
    agent = forms.ModelChoiceField(queryset=AgentConfig.objects.filter(purpose=AgentConfig.Purpose.ANALYSIS),
                                   required=False, empty_label="the default agent")
    project = forms.ModelChoiceField(queryset=Project.objects.none(), required=False,
                                     empty_label='the workspace\'s "Chats" project',
                                     help_text="Where accepted tasks and decisions are recorded.")

    def clean(self):
        data = super().clean()
        if data.get("window_start") and data.get("window_end") and data["window_start"] >= data["window_end"]:
            raise forms.ValidationError("The window must start before it ends.")
        chat = data.get("chat")
        if chat is not None and data.get("workspace") and chat.workspace_id != data["workspace"].pk:
            raise forms.ValidationError("The chat belongs to another workspace.")
        project = data.get("project")
        if project is not None and data.get("workspace") and project.workspace_id != data["workspace"].pk:
            raise forms.ValidationError("The project belongs to another workspace.")
        return data

    def filters(self):
        keywords = [k.strip() for k in self.cleaned_data["keywords"].split(",") if k.strip()]
        return {"keywords": keywords, "min_length": self.cleaned_data["min_length"],
                "mentions_only": self.cleaned_data["mentions_only"]}


class ExperimentForm(WorkspaceForm):
    name = forms.CharField(max_length=200)
    dataset = forms.ChoiceField(choices=ClassificationExperiment.Dataset.choices)
    csv_file = forms.FileField(required=False, label="Labelled CSV (text,label)")
    classifier = forms.ChoiceField(choices=ClassificationExperiment.Classifier.choices)
    folds = forms.IntegerField(min_value=2, max_value=10, initial=5)

    def clean(self):
        data = super().clean()
        if data.get("dataset") == ClassificationExperiment.Dataset.CSV:
            upload = data.get("csv_file")
            if upload is None:
                raise forms.ValidationError("Upload a CSV for a CSV dataset.")
            if upload.size > upload_max_bytes():
                raise forms.ValidationError("The CSV is larger than the upload limit.")
        return data

