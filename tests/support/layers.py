"""Layer zips built once per test process and shared by the tests that only read them.

A full layer with bytecode takes seconds to build (each runtime's interpreter compiles
it); tests/functional/tools/test_layer.py, tests/functional/tools/test_layer_bytecode.py and
tests/functional/tools/test_layer_import.py read the same builds. Tests that check the
build itself (reproducibility, errors, the directory form) build their own.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from lambda_assume_role_tools.layer import LayerReport, build_layer


@functools.cache
def _folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="test-layers-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@functools.cache
def shared_layer(*, slim: bool = False, bytecode: bool = True) -> LayerReport:
    """The layer zip for these options, built on first use; do not modify the file.

    Example:
        >>> shared_layer(slim=True).path.name
        'slim-bytecode.zip'
    """
    name = f"{'slim' if slim else 'full'}-{'bytecode' if bytecode else 'sources'}.zip"
    return build_layer(_folder() / name, slim=slim, bytecode=bytecode)
