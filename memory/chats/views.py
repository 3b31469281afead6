"""Chat pages: chats and their scored messages, imports, analysis runs and experiments, all live."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .forms import AnalysisRunForm, ExperimentForm, ExportUploadForm
from .models import (
    AnalysisRun, Atom, Chat, ChatTopic, ClassificationExperiment, MessageIngestionJob, NoiseClass, Proposal,
)
from .services.review import accept_proposal, reject_proposal
from .services.starting import start_analysis, start_experiment, start_ingestion
from .uploads import save_upload

MESSAGES_SHOWN = 200
NOISE_FILTERS = {"all": None, "signal": [NoiseClass.SIGNAL], "no_noise": [NoiseClass.SIGNAL, NoiseClass.WEAK_SIGNAL],
                 "noise": [NoiseClass.NOISE]}


@login_required
def chat_list(request):
    chats = Chat.objects.visible_to(request.user).select_related("workspace").annotate(n=Count("messages"))
    return render(request, "memory/chats/chat_list.html", {"chats": chats})


@login_required
def chat_page(request, chat_id):
    chat = get_object_or_404(Chat.objects.visible_to(request.user).select_related("workspace"), pk=chat_id)
    noise = request.GET.get("noise", "all")
    shown = chat.messages.select_related("author", "topic").order_by("-sent_at", "-telegram_id")
    if NOISE_FILTERS.get(noise):
        shown = shown.filter(noise_class__in=NOISE_FILTERS[noise])
    topics = (ChatTopic.objects.filter(workspace=chat.workspace, messages__chat=chat)
              .annotate(n=Count("messages")).order_by("-n")[:30])
    atoms = Atom.objects.filter(source_messages__chat=chat).select_related("topic").distinct()[:50]
    return render(request, "memory/chats/chat.html", {
        "chat": chat, "chat_messages": shown[:MESSAGES_SHOWN], "noise": noise, "noise_filters": NOISE_FILTERS,
        "topics": topics, "atoms": atoms,
    })


@login_required
def ingestion_list(request):
    form = ExportUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["export"]
        path = save_upload(upload, ".json")
        job = start_ingestion(form.cleaned_data["workspace"], path, upload.name, request.user)
        return redirect("chats:import", job_id=job.pk)
    jobs = MessageIngestionJob.objects.visible_to(request.user).select_related("workspace", "chat")[:50]
    return render(request, "memory/chats/import_list.html", {"form": form, "jobs": jobs})


@login_required
def ingestion_page(request, job_id):
    job = get_object_or_404(MessageIngestionJob.objects.visible_to(request.user).select_related("chat"), pk=job_id)
    return render(request, "memory/chats/import.html", {"job": job})


@login_required
def analysis_list(request):
    form = AnalysisRunForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        run = start_analysis(user=request.user, workspace=data["workspace"], chat=data["chat"],
                             window_start=data["window_start"], window_end=data["window_end"],
                             filters=form.filters(), batch_size=data["batch_size"], use_rag=data["use_rag"],
                             agent=data["agent"], project=data["project"])
        return redirect("chats:analysis_run", run_id=run.pk)
    runs = AnalysisRun.objects.visible_to(request.user).select_related("workspace", "chat")[:50]
    return render(request, "memory/chats/analysis_list.html", {"form": form, "runs": runs})


@login_required
def analysis_page(request, run_id):
    run = get_object_or_404(AnalysisRun.objects.visible_to(request.user).select_related("chat"), pk=run_id)
    proposals = run.proposals.prefetch_related("source_messages").select_related("reviewed_by")
    return render(request, "memory/chats/analysis.html", {"run": run, "proposals": proposals})


@login_required
@require_POST
def review_proposal(request, proposal_id):
    proposal = get_object_or_404(Proposal.objects.editable_by(request.user), pk=proposal_id)
    decision = request.POST.get("decision")
    if decision not in ("accept", "reject"):
        flash.error(request, "Choose accept or reject.")
    else:
        try:
            (accept_proposal if decision == "accept" else reject_proposal)(proposal, request.user)
        except ValueError as exc:
            flash.error(request, str(exc))
    return redirect("chats:analysis_run", run_id=proposal.run_id)


@login_required
def experiment_list(request):
    form = ExperimentForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        path = save_upload(data["csv_file"], ".csv") if data.get("csv_file") else ""
        experiment = start_experiment(user=request.user, workspace=data["workspace"], name=data["name"],
                                      dataset=data["dataset"], dataset_file=path, classifier=data["classifier"],
                                      folds=data["folds"])
        return redirect("chats:experiment", experiment_id=experiment.pk)
    experiments = ClassificationExperiment.objects.visible_to(request.user).select_related("workspace")[:50]
    return render(request, "memory/chats/experiment_list.html", {"form": form, "experiments": experiments})


@login_required
def experiment_page(request, experiment_id):
    experiment = get_object_or_404(ClassificationExperiment.objects.visible_to(request.user), pk=experiment_id)
    return render(request, "memory/chats/experiment.html", {
        "experiment": experiment, "heatmap": heatmap(experiment)})


def heatmap(experiment):
    """Rows of cells (count, share of its true-label row, colour) for the confusion matrix."""
    rows = []
    for label, counts in zip(experiment.labels, experiment.confusion_matrix):
        total = sum(counts) or 1
        cells = []
        for count in counts:
            share = count / total
            # White to dark blue by the share of the row: the diagonal is recall.
            shade = int(255 - 200 * share)
            cells.append({"count": count, "share": round(share, 3),
                          "colour": f"rgb({shade},{shade + int(40 * share)},255)",
                          "dark": share > 0.5})
        rows.append({"label": label, "cells": cells})
    return rows
