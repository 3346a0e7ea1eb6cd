"""``python -m lambda_assume_role`` runs the ``lambda-assume-role`` command.

As ``python -m aws_assume_role_lib`` runs aws-assume-role-lib's, for parity. This is
the one documented exception to "the runtime package never imports the tools package":
the command lives in `lambda_assume_role_tools`, which builds and drives this
package and is not in the Lambda layer; it starts at `lambda_assume_role_tools.entry`,
which takes Ctrl-C before the command's heavy imports begin. Nothing imports this
module, and the layer leaves it out (`lambda_assume_role_tools.layer.COMMAND_LINE_ENTRY`),
so in Lambda ``python -m lambda_assume_role`` is Python's own one line ("No module
named lambda_assume_role.__main__"), not an import traceback.
"""

# Nothing before the entry: its first line is where Ctrl-C becomes one line (no
# `from __future__ import`, which is an import too).
from lambda_assume_role_tools.entry import main

raise SystemExit(main())
