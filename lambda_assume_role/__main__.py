"""``python -m lambda_assume_role``: runs `lambda_assume_role_tools.cli` (not in the layer)."""
from lambda_assume_role_tools.cli import main

raise SystemExit(main())
