"""What a layer build wrote, in one line for people and one command to publish it.

Why apart: the report is the build's only output besides the files, and the
command line prints it; its wording (sizes in KB, the runtimes the bytecode is
for) is checked against the README (tests/functional/tools/test_layer.py).

Example:
    >>> report = LayerReport(Path("build/layer.zip"), 41, 39_117, 155_648, (), slim=True,
    ...                      runtimes=("python3.13",), bytecode=True)
    >>> report.summary()
    'layer.zip: 41 files, 38.2 KB zipped, 152.0 KB unzipped (slim); bytecode for python3.13'
"""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

from lambda_assume_role_tools.layer.contents import Distributions
from lambda_assume_role_tools.layer.runtimes import SUPPORTED_RUNTIMES

__all__ = ["LayerReport", "human_size"]


@dataclasses.dataclass(frozen=True)
class LayerReport:
    """What a layer build wrote.

    Attributes:
        path: The zip file, or the directory that holds ``python/``.
        files: How many files the layer contains.
        zipped_bytes: Size of the zip file; ``None`` for the directory form.
        unzipped_bytes: Total size of the files once extracted.
        distributions: ``(name, version)`` of every third-party distribution
            included, sorted by name; empty for a slim layer.
        slim: Whether the layer holds only this package.
        runtimes: The Lambda runtimes the layer is declared for: with bytecode,
            exactly those it has bytecode for.
        bytecode: Whether the layer ships ``.pyc`` files (for each of *runtimes*).
        notices: One line per supported runtime left out for want of an interpreter.

    Example:
        >>> report = LayerReport(Path("layer.zip"), 41, 39_117, 155_648, (), slim=True)
        >>> report.summary()
        'layer.zip: 41 files, 38.2 KB zipped, 152.0 KB unzipped (slim); sources only'
    """

    path: Path
    files: int
    zipped_bytes: int | None
    unzipped_bytes: int
    distributions: Distributions
    slim: bool = False
    runtimes: tuple[str, ...] = SUPPORTED_RUNTIMES
    bytecode: bool = False
    notices: tuple[str, ...] = ()

    def summary(self) -> str:
        """Describe the layer in one line, with sizes in human units (1 KB = 1024 bytes).

        Returns:
            For example ``layer.zip: 41 files, 38.2 KB zipped, 152.0 KB unzipped (slim);
            bytecode for python3.13``; a full layer lists its distributions in the
            parentheses instead.

        Example:
            >>> LayerReport(Path("out"), 2, None, 2048, (("jmespath", "1.1.0"),),
            ...             runtimes=("python3.13",), bytecode=True).summary()
            'out: 2 files, 2.0 KB unzipped (jmespath 1.1.0); bytecode for python3.13'
        """
        parts = [f"{self.path.name or self.path}: {self.files} files"]
        if self.zipped_bytes is not None:
            parts.append(f"{human_size(self.zipped_bytes)} zipped")
        parts.append(f"{human_size(self.unzipped_bytes)} unzipped")
        text = ", ".join(parts)
        if self.slim:
            text += " (slim)"
        elif self.distributions:
            included = ", ".join(f"{name} {version}" for name, version in self.distributions)
            text += f" ({included})"
        if self.bytecode:
            return f"{text}; bytecode for {', '.join(self.runtimes)}"
        return f"{text}; sources only"

    def publish_command(self, layer_name: str = "lambda-assume-role") -> str:
        """The AWS CLI command that publishes this zip for exactly its runtimes.

        Example:
            >>> LayerReport(Path("build/layer.zip"), 1, 1, 1, (),
            ...             runtimes=("python3.12", "python3.13")).publish_command()
            'aws lambda publish-layer-version --layer-name lambda-assume-role --zip-file fileb://build/layer.zip --compatible-runtimes python3.12 python3.13 --compatible-architectures x86_64 arm64'
        """  # noqa: E501
        return shlex.join(
            [
                "aws",
                "lambda",
                "publish-layer-version",
                "--layer-name",
                layer_name,
                "--zip-file",
                f"fileb://{self.path.as_posix()}",
                "--compatible-runtimes",
                *self.runtimes,
                "--compatible-architectures",
                "x86_64",
                "arm64",
            ]
        )


def human_size(size: int) -> str:
    """*size* bytes in B, KB or MB (1 KB = 1024 bytes), one decimal.

    Example:
        >>> human_size(900), human_size(39_117), human_size(3_776_435)
        ('900 B', '38.2 KB', '3.6 MB')
    """
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
