#!/usr/bin/env python
"""Django's command-line utility for Engram."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    # `services` manages the embedded servers itself; everything else needs them up.
    if len(sys.argv) < 2 or sys.argv[1] != "services":
        from project.embedded import ensure_embedded_services

        ensure_embedded_services()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
