"""The posts page: the latest posts with their stage, tags marked in the text and a preview of the crawled pages
and of the text read from their images."""

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import render

from .models import Post, PostEnrichment
from .tagging import as_written

POSTS_SHOWN = 100


def highlighted(text, tags):
    """text as [(segment, is_tag)]: every occurrence of a tag (as written) marked, longest tags first."""
    spans = []
    for tag in sorted(tags, key=len, reverse=True):
        written = as_written(tag, text)
        start = text.find(written) if written else -1
        while start != -1:
            end = start + len(written)
            if not any(start < other_end and other_start < end for other_start, other_end in spans):
                spans.append((start, end))
            start = text.find(written, end)
    segments, position = [], 0
    for start, end in sorted(spans):
        if start > position:
            segments.append((text[position:start], False))
        segments.append((text[start:end], True))
        position = end
    if position < len(text):
        segments.append((text[position:], False))
    return segments


@login_required
def post_list(request):
    posts = Post.objects.visible_to(request.user).select_related("workspace")
    tag, channel = request.GET.get("tag", "").strip(), request.GET.get("channel", "").strip()
    if tag:
        posts = posts.tagged_with(tag)
    if channel:
        posts = posts.filter(channel=channel)
    posts = list(posts.defer("embedding").prefetch_related(
        Prefetch("enrichments", queryset=PostEnrichment.objects.filter(kind__in=["tags", "crawl", "ocr"])))[:POSTS_SHOWN])
    rows = []
    for post in posts:
        by_kind = {row.kind: row for row in post.enrichments.all()}
        tags = by_kind["tags"].data.get("tags", []) if "tags" in by_kind else []
        pages = by_kind["crawl"].data.get("pages", []) if "crawl" in by_kind else []
        ocr = by_kind["ocr"].data if "ocr" in by_kind else {}
        rows.append({"post": post, "tags": tags, "segments": highlighted(post.text, tags), "pages": pages,
                     "ocr_status": ocr.get("status", ""), "ocr_reason": ocr.get("reason", ""),
                     "images": ocr.get("images", [])})
    channels = (Post.objects.visible_to(request.user).exclude(channel="").order_by("channel")
                .values_list("channel", flat=True).distinct()[:200])
    return render(request, "memory/posts/post_list.html",
                  {"rows": rows, "tag": tag, "channel": channel, "channels": channels})
