"""Local keyphrase extraction speed: milliseconds per short text (the tagging and topic paths use it).

    .venv/bin/python bench/keywords.py [--texts 1000]

Baseline in the same run: splitting and lower-casing the same texts, so the ratio survives a
loaded machine. Goal: a few milliseconds per text. Last line:

    keywords: texts=... ms_per_text=... baseline_ms_per_text=... ratio=...
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1000)
    options = parser.parse_args()
    from memory.providers.keywords import extract_keyphrases

    texts = [f"Note {i}: Alice asked Bob to move the billing service {i % 7} to Kubernetes before Friday; "
             f"the Postgres cluster in Zürich needs {i % 5} more replicas." for i in range(options.texts)]
    extract_keyphrases(texts[0])  # warm: stop-word lists load once
    started = time.perf_counter()
    for text in texts:
        extract_keyphrases(text)
    per_text = (time.perf_counter() - started) * 1000 / len(texts)
    started = time.perf_counter()
    for text in texts:
        sorted(set(text.lower().split()))
    baseline = (time.perf_counter() - started) * 1000 / len(texts)
    print(f"keywords: texts={len(texts)} ms_per_text={per_text:.2f} baseline_ms_per_text={baseline:.4f} "
          f"ratio={per_text / baseline:.0f}")


if __name__ == "__main__":
    main()
