"""The parent session, from an AWS config profile, and the guard against a credential_process loop.

Why apart: ``assume`` is often itself a profile's ``credential_process``, and botocore
runs that process again whenever it resolves the profile; a line that resolves its own
profile would start processes forever. The guard is a protocol between ``assume``
processes: each one records the profile it resolves in `PROFILE_CHAIN_VARIABLE` while
it does (`resolving_profile`); a child that finds its profile already there stops with
a one-line explanation (exit 2); and each ``assume`` up the chain, whose
``credential_process`` failed that way, passes the explanation on with exit 2
(`loop_reported_by`) instead of "unable to locate credentials" (exit 3): the fix is in
the config file, not in the parent's credentials.

Example:
    >>> print(loop_message(["self"], "self", named=True))
    credential_process calls itself: the credential_process of profile 'self' runs lambda-assume-role with --profile self, the profile itself (profiles: self -> self), forever. Change that --profile to a profile with its own credentials (keys, SSO, or a role_arn with a source_profile), not self.
"""  # noqa: E501

from __future__ import annotations

import contextlib
import json
import os
import shlex
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lambda_assume_role_tools.cli.errors import (
    EXIT_BAD_ARGUMENTS,
    EXIT_NO_CREDENTIALS,
    CommandError,
    describe,
)
from lambda_assume_role_tools.cli.output import PROG

if TYPE_CHECKING:
    import boto3
    import botocore.session

__all__ = [
    "PROFILE_CHAIN_VARIABLE",
    "loop_message",
    "loop_reported_by",
    "parent_session",
    "resolving_profile",
]

PROFILE_CHAIN_VARIABLE = "LAMBDA_ASSUME_ROLE_PROFILE_CHAIN"
"""Environment variable holding the profiles that ``assume`` processes are resolving.

Each ``assume`` appends the profile it resolves its parent credentials from
(a JSON list) before resolving them; botocore passes the environment to a
``credential_process`` child, so a child that finds its own profile already
listed is a ``credential_process`` calling itself, and stops at once instead of
spawning the next level forever.
"""

_LOOP = "credential_process calls itself"


def parent_session(profile: str | None) -> boto3.Session:
    """The parent session, after checking the configuration values botocore converts.

    botocore converts values such as ``AWS_MAX_ATTEMPTS`` only when a client is
    built, and then fails with a bare ``ValueError`` naming no variable; reading
    each converted session variable here reports the variable by name instead.

    Raises:
        CommandError: The profile does not exist (exit 3), or a configuration value
            is malformed (exit 2, naming the variable and where it is set).
    """
    import boto3
    import botocore.exceptions
    import botocore.session

    try:
        core = botocore.session.get_session()
        parent = boto3.Session(botocore_session=core, profile_name=profile)
        _check_configuration(core)
    except botocore.exceptions.BotoCoreError as error:
        raise CommandError(
            EXIT_NO_CREDENTIALS, f"unable to locate credentials: {describe(error)}"
        ) from None
    return parent


@contextlib.contextmanager
def resolving_profile(profile: str, *, named: bool) -> Iterator[None]:
    """Record ``profile`` in `PROFILE_CHAIN_VARIABLE` while the parent's credentials resolve.

    Args:
        profile: The profile the parent's credentials come from.
        named: It was given with ``--profile`` (else it is the active one:
            ``AWS_PROFILE`` or ``default``); the loop's explanation differs.

    Raises:
        CommandError: ``profile`` is already being resolved by an ``assume``
            process up the chain: a ``credential_process`` calling itself (exit 2).
    """
    chain = _profile_chain()
    if profile in chain:
        raise CommandError(EXIT_BAD_ARGUMENTS, loop_message(chain, profile, named=named))
    previous = os.environ.get(PROFILE_CHAIN_VARIABLE)
    os.environ[PROFILE_CHAIN_VARIABLE] = json.dumps([*chain, profile])
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(PROFILE_CHAIN_VARIABLE, None)
        else:
            os.environ[PROFILE_CHAIN_VARIABLE] = previous


def loop_message(chain: Sequence[str], profile: str, *, named: bool) -> str:
    """Explain a ``credential_process`` loop, and what to change, in words true at every level.

    Args:
        chain: The profiles being resolved up the chain, outermost first; the last one's
            ``credential_process`` line started this process.
        profile: The profile this process would resolve: one of *chain*.
        named: *profile* was given with ``--profile`` on that line.

    Example:
        >>> print(loop_message(["looping"], "looping", named=False))
        credential_process calls itself: the credential_process of profile 'looping' runs lambda-assume-role without --profile, so it resolves the active profile, 'looping', again (profiles: looping -> looping), forever. Add --profile <source profile> (a profile with its own credentials) to that line.
    """  # noqa: E501
    line_of = chain[-1]
    loop = " -> ".join([*chain, profile])
    head = f"{_LOOP}: the credential_process of profile {line_of!r} runs {PROG}"
    if not named:
        return (
            f"{head} without --profile, so it resolves the active profile, {profile!r}, "
            f"again (profiles: {loop}), forever. Add --profile <source profile> (a profile "
            "with its own credentials) to that line."
        )
    which = "the profile itself" if profile == line_of else "a profile already being resolved"
    return (
        f"{head} with --profile {shlex.quote(profile)}, {which} (profiles: {loop}), forever. "
        "Change that --profile to a profile with its own credentials (keys, SSO, or a "
        f"role_arn with a source_profile), not {' or '.join(dict.fromkeys(chain))}."
    )


def loop_reported_by(error: BaseException) -> str | None:
    """The loop explanation a ``credential_process`` child of ours failed with, if any.

    botocore's ``CredentialRetrievalError`` carries the failed process's stderr
    (``kwargs["error_msg"]``); an ``assume`` child that stopped a loop printed
    ``lambda-assume-role: credential_process calls itself: ...`` there.

    Example:
        >>> from botocore.exceptions import CredentialRetrievalError
        >>> loop_reported_by(CredentialRetrievalError(
        ...     provider="custom-process",
        ...     error_msg="lambda-assume-role: credential_process calls itself: fix it\\n"))
        'credential_process calls itself: fix it'
        >>> loop_reported_by(CredentialRetrievalError(provider="custom-process", error_msg="no"))
    """
    kwargs: Any = getattr(error, "kwargs", None)
    text = kwargs.get("error_msg") if isinstance(kwargs, Mapping) else None
    if not isinstance(text, str):
        return None
    prefix = f"{PROG}: "
    for line in text.splitlines():
        if line.startswith(f"{prefix}{_LOOP}: "):
            return line.removeprefix(prefix)
    return None


def _check_configuration(core: botocore.session.Session) -> None:
    variables: Mapping[str, Any] = getattr(core, "session_var_map", {})
    for name, spec in variables.items():
        # (config file name, environment variable(s), default, conversion):
        # only converted values can be malformed. Unconverted ones (region
        # among them) are not read, so no lookup reaches the instance metadata.
        if len(spec) < 4 or spec[3] is None:
            continue
        try:
            core.get_config_variable(name)
        except (TypeError, ValueError) as error:
            sources = [spec[1]] if isinstance(spec[1], str) else list(spec[1] or [])
            if spec[0]:
                sources.append(f"{spec[0]} in the config file")
            raise CommandError(
                EXIT_BAD_ARGUMENTS,
                f"invalid AWS configuration: {name} ({' or '.join(sources)}): {describe(error)}",
            ) from None


def _profile_chain() -> list[str]:
    try:
        chain = json.loads(os.environ.get(PROFILE_CHAIN_VARIABLE) or "[]")
    except ValueError:
        return []
    if not isinstance(chain, list):
        return []
    return [item for item in chain if isinstance(item, str)]
