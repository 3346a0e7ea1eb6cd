"""What builds and drives ``lambda_assume_role``, kept out of the package that runs in Lambda.

* `lambda_assume_role_tools.cli`: the ``lambda-assume-role`` command (``assume``, to print
  credentials for a shell or a ``credential_process``; ``build-layer``);
* `lambda_assume_role_tools.layer`: the Lambda layer builder.

Why a package of its own: every function that uses the layer would otherwise carry about
2,000 lines that never run in Lambda, and the layer builder would have to keep a list of
the runtime package's files to leave out, a list that drifts. With the split, the layer
ships the runtime package whole but for one file, its ``__main__.py``
(`lambda_assume_role_tools.layer.COMMAND_LINE_ENTRY`), and none of this package.
Powertools keeps its layer project outside its package for the same reason. Both
packages ship in the same distribution, so ``pip install lambda-assume-role`` still
gives the command, and ``python -m lambda_assume_role`` still runs it.
"""
