"""``python -m lambda_assume_role_tools.cli``: the same as the ``lambda-assume-role`` command."""

# Nothing before the entry: its first line is where Ctrl-C becomes one line (no
# `from __future__ import`, which is an import too).
import sys

from lambda_assume_role_tools.entry import main

sys.exit(main())
