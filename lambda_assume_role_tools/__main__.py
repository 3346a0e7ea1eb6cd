"""``python -m lambda_assume_role_tools``: the same as the ``lambda-assume-role`` command."""

from __future__ import annotations

import sys

from lambda_assume_role_tools.cli import main

sys.exit(main())
