"""``python -m lambda_assume_role``: the same as the ``lambda-assume-role`` command."""

import sys

from lambda_assume_role.cli import main

sys.exit(main())
