"""Deployable example functions, one folder each, and the local demo: python -m examples.demo."""
