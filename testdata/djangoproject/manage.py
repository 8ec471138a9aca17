#!/usr/bin/python3
"""Django's command-line utility for the djsession test project (Django 3.2+)."""
import os
import sys

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djsproject.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
