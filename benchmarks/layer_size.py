"""Layer size: the full and the slim layer, zipped and unzipped, against Lambda's limits.

Both are built with `lambda_assume_role_tools.layer.build_layer` into a temporary folder, from the
distributions installed in this interpreter, with bytecode for each supported runtime that has
an interpreter here (as ``make layer`` builds them); the full layer from sources only shows
what the bytecode adds. For scale, aws-assume-role-lib's installed
``.py`` files are zipped the same way (DEFLATE level 9, no ``__pycache__``): what the same
job costs as a single-module dependency in a function's package.

Run from the repository root: ``.venv/bin/python -m benchmarks.layer_size``.
"""

from __future__ import annotations

import importlib.metadata
import io
import tempfile
import zipfile
from pathlib import Path

from benchmarks._harness import environment_header, markdown_table, note_not_ahead

ZIPPED_LIMIT = 50 * 1024 * 1024  # direct upload of a zip
UNZIPPED_LIMIT = 250 * 1024 * 1024  # function plus all its layers, unzipped


def _kb(size: int) -> str:
    return f"{size / 1024:,.1f}"


def _aarl_sizes() -> tuple[int, int, int]:
    """Files, zipped bytes and unzipped bytes of aws-assume-role-lib's ``.py`` files."""
    dist = importlib.metadata.distribution("aws-assume-role-lib")
    buffer = io.BytesIO()
    files = unzipped = 0
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(dist.files or [], key=str):
            if path.suffix != ".py" or "__pycache__" in path.parts:
                continue
            data = Path(str(dist.locate_file(path))).read_bytes()
            files += 1
            unzipped += len(data)
            archive.writestr(
                f"python/{path.as_posix()}",
                data,
                compress_type=zipfile.ZIP_DEFLATED,
                compresslevel=9,
            )
    return files, len(buffer.getvalue()), unzipped


def main() -> str:
    from lambda_assume_role_tools.layer import build_layer

    with tempfile.TemporaryDirectory(prefix="bench-layer-") as folder:
        full = build_layer(Path(folder) / "full.zip")
        slim = build_layer(Path(folder) / "slim.zip", slim=True)
        sources = build_layer(Path(folder) / "sources.zip", bytecode=False)
    aarl_files, aarl_zipped, aarl_unzipped = _aarl_sizes()
    assert full.zipped_bytes is not None
    assert slim.zipped_bytes is not None
    assert sources.zipped_bytes is not None
    runtimes = ", ".join(full.runtimes)
    rows: list[list[object]] = [
        [
            "full (lambda_assume_role + Powertools and its dependencies)",
            full.files,
            _kb(full.zipped_bytes),
            _kb(full.unzipped_bytes),
            f"{full.zipped_bytes / slim.zipped_bytes:.1f}x",
            f"{full.zipped_bytes / ZIPPED_LIMIT:.2%}",
            f"{full.unzipped_bytes / UNZIPPED_LIMIT:.2%}",
        ],
        [
            "slim (lambda_assume_role only)",
            slim.files,
            _kb(slim.zipped_bytes),
            _kb(slim.unzipped_bytes),
            "1.0x",
            f"{slim.zipped_bytes / ZIPPED_LIMIT:.2%}",
            f"{slim.unzipped_bytes / UNZIPPED_LIMIT:.2%}",
        ],
        [
            "full, sources only (no bytecode)",
            sources.files,
            _kb(sources.zipped_bytes),
            _kb(sources.unzipped_bytes),
            f"{sources.zipped_bytes / slim.zipped_bytes:.1f}x",
            f"{sources.zipped_bytes / ZIPPED_LIMIT:.2%}",
            f"{sources.unzipped_bytes / UNZIPPED_LIMIT:.2%}",
        ],
        [
            "for scale: aws-assume-role-lib's .py files",
            aarl_files,
            _kb(aarl_zipped),
            _kb(aarl_unzipped),
            f"{aarl_zipped / slim.zipped_bytes:.1f}x",
            f"{aarl_zipped / ZIPPED_LIMIT:.2%}",
            f"{aarl_unzipped / UNZIPPED_LIMIT:.2%}",
        ],
    ]
    table = markdown_table(
        [
            "layer",
            "files",
            "zipped KB",
            "unzipped KB",
            "zipped vs slim",
            "of 50 MB zip limit",
            "of 250 MB unzipped limit",
        ],
        rows,
    )
    if aarl_zipped < slim.zipped_bytes:
        note_not_ahead(
            f"Layer size: the slim layer is {_kb(slim.zipped_bytes)} KB zipped against "
            f"{_kb(aarl_zipped)} KB for aws-assume-role-lib's single module "
            f"({slim.zipped_bytes / aarl_zipped:.1f}x): more features in more modules, and "
            f"bytecode for {len(slim.runtimes)} runtimes besides the sources. The slim layer "
            f"is {slim.zipped_bytes / ZIPPED_LIMIT:.2%} of Lambda's 50 MB limit."
        )
    included = ", ".join(f"{name} {version}" for name, version in full.distributions)
    text = "\n\n".join(
        [
            "## Layer size",
            "`build_layer(path)` and `build_layer(path, slim=True)` into a temporary folder "
            f"(KB = 1024 bytes), with unchecked-hash bytecode for {runtimes} (the supported "
            "runtimes with an interpreter here: each `.py` gets one `.pyc` per runtime), and "
            "the full layer with `bytecode=False` for comparison. Limits: 50 MB for a zip "
            "uploaded directly, 250 MB unzipped for a function and all its layers. The full "
            f"layer includes: {included}.",
            table,
        ]
    )
    print(text)
    return text


if __name__ == "__main__":
    print(environment_header())
    main()
