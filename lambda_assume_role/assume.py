"""`assume_role()`: AssumeRole parameters in, a lazily refreshing `boto3.Session` out.

The same function as aws-assume-role-lib's, with the same names, arguments and
behaviour, and these differences:

* the session is cheap: it shares botocore's loader and builtin handlers
  (`lambda_assume_role.shared`) and calls STS through one client per parent
  (`lambda_assume_role.fetcher`);
* its credentials refresh on a lifetime-aware schedule
  (`lambda_assume_role.refresh`), so 900 s sessions do not call AssumeRole on
  every request;
* parameters are checked against STS's rules without creating an STS client,
  and errors name the parameter and the rule;
* inside Lambda, the default session name identifies the execution environment.
"""

from __future__ import annotations

import datetime
import functools
import os
from collections.abc import Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

import boto3
import botocore.configprovider
import botocore.credentials
import botocore.exceptions
import botocore.session

from lambda_assume_role.fetcher import AssumeRoleFetcher, sts_client_for
from lambda_assume_role.parameters import (
    ASSUME_ROLE_KEYWORDS,
    AssumeRoleParameters,
    check_region_name,
)
from lambda_assume_role.redact import protect_botocore_logs
from lambda_assume_role.refresh import AssumeRoleCredentials
from lambda_assume_role.refresh_policy import DEFAULT_WINDOWS, RefreshWindows
from lambda_assume_role.role import PreparedRole, prepare_role
from lambda_assume_role.session_options import SESSION_OPTIONS
from lambda_assume_role.shared import new_botocore_session
from lambda_assume_role.snapstart import register_restore_hook

if TYPE_CHECKING:
    from lambda_assume_role.credential_store import CredentialStore

__all__ = ["AssumedRoleSession", "assume_role", "patch_boto3"]


class AssumedRoleSession(boto3.Session):
    """A `boto3.Session` whose credentials come from assuming a role.

    It is a plain `boto3.Session` in every respect; it adds the parent session
    (``assume_role_parent_session``, as aws-assume-role-lib does), the role
    and a ``repr`` that shows them but never a key.
    """

    def __init__(
        self,
        *,
        botocore_session: botocore.session.Session,
        region_name: str | None,
        parent: boto3.Session,
        credentials: AssumeRoleCredentials,
    ) -> None:
        super().__init__(botocore_session=botocore_session, region_name=region_name)
        self.assume_role_parent_session = parent
        self.assume_role_credentials = credentials

    @property
    def role_arn(self) -> str:
        """The assumed role's ARN."""
        return self.assume_role_credentials.role_arn

    def in_region(self, region_name: str) -> AssumedRoleSession:
        """This role's session in another region, sharing these credentials.

        One AssumeRole serves every region: the two sessions refresh one
        credentials object (credentials from a regional STS endpoint are valid
        in every region the account has enabled). Each session keeps its own
        region, config, event handlers and clients, as any new session does.

        Raises:
            InvalidParameterError: ``region_name`` is not a region name (the
                package's one region rule, `check_region_name`), before any
                session is built or any call made.

        Example:
            >>> import boto3
            >>> parent = boto3.Session(aws_access_key_id="AKIDEXAMPLE",
            ...                        aws_secret_access_key="example", region_name="us-east-1")
            >>> home = assume_role(parent, "arn:aws:iam::123456789012:role/Reader")
            >>> away = home.in_region("eu-west-1")
            >>> away.region_name, away.get_credentials() is home.get_credentials()
            ('eu-west-1', True)
        """
        check_region_name("region_name", region_name)
        child = new_botocore_session(self._session.get_config_variable("data_path"))
        child.register_component(
            "credential_provider",
            botocore.credentials.CredentialResolver(
                [_ProvidedCredentials(self.assume_role_credentials)]
            ),
        )
        return AssumedRoleSession(
            botocore_session=child,
            region_name=region_name,
            parent=self.assume_role_parent_session,
            credentials=self.assume_role_credentials,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(role_arn={self.role_arn!r}, region_name={self.region_name!r})"
        )


class _ProvidedCredentials(botocore.credentials.CredentialProvider):
    """Hands botocore one credentials object, the same one on every load."""

    METHOD = "assume-role"

    def __init__(self, credentials: AssumeRoleCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> AssumeRoleCredentials:
        return self._credentials


class _ParentConfigProvider(botocore.configprovider.BaseProvider):
    """Reads a config variable from the parent session, at the time it is asked."""

    def __init__(self, name: str, parent: botocore.session.Session) -> None:
        self._name = name
        self._parent = parent

    def provide(self) -> Any:
        return self._parent.get_config_variable(self._name)


def assume_role(
    session: boto3.Session,
    RoleArn: str,
    *,
    RoleSessionName: str | None = None,
    PolicyArns: Sequence[str | Mapping[str, str]] | None = None,
    Policy: str | Mapping[str, Any] | None = None,
    DurationSeconds: int | datetime.timedelta | None = None,
    Tags: Sequence[Mapping[str, str]] | Mapping[str, str] | None = None,
    TransitiveTagKeys: Sequence[str] | None = None,
    ExternalId: str | None = None,
    SerialNumber: str | None = None,
    TokenCode: str | None = None,
    SourceIdentity: str | None = None,
    region_name: str | bool | None = None,
    validate: bool = True,
    cache: MutableMapping[str, Any] | None = None,
    additional_kwargs: Mapping[str, Any] | None = None,
    refresh_windows: RefreshWindows | None = None,
    credential_store: CredentialStore | str | os.PathLike[str] | bool | None = None,
) -> AssumedRoleSession:
    """Produce a boto3 Session using the given role, assumed using the input session.

    Unlike a session made from the credentials that ``sts.assume_role``
    returns, this one refreshes them itself by calling AssumeRole again before
    they expire. No STS call happens until its credentials are first needed.

    Args:
        session: The parent session whose credentials assume the role. It may
            itself be an assumed-role session (role chaining).
        RoleArn: The role to assume.
        RoleSessionName: The session name. By default, inside Lambda, a name
            from `generate_lambda_session_name`; elsewhere botocore's
            ``botocore-session-<time>``. `SourceIdentity` is used when given.
        PolicyArns: Managed session policies, as ARN strings or ``{"arn": ...}``.
        Policy: An inline session policy, as a dict or JSON text.
        DurationSeconds: Credential lifetime (int seconds or `datetime.timedelta`).
        Tags: Session tags, as ``[{"Key": ..., "Value": ...}]`` or a dict.
        TransitiveTagKeys: Session tag keys that persist through role chaining.
        ExternalId: The external id the role's trust policy requires.
        SerialNumber: MFA device; without `TokenCode`, the code is prompted for.
        TokenCode: MFA code.
        SourceIdentity: Source identity to set on the session.
        region_name: None follows the parent's region as it changes; True pins
            the parent's current region; False leaves it to the environment
            (implicit); a string sets it.
        validate: Check the parameters now, before any network call.
        cache: A dict-like cache of AssumeRole responses, e.g. `JSONFileCache`.
        additional_kwargs: Further AssumeRole arguments, passed through.
        refresh_windows: Tune the refresh policy; the defaults need no tuning.
        credential_store: Share the credentials with this environment's other
            processes, one AssumeRole per role for all (single flight through
            a private folder under the temporary directory): None is on under
            Lambda Managed Instances (``AWS_LAMBDA_MAX_CONCURRENCY`` above 1)
            unless ``LAMBDA_ASSUME_ROLE_CREDENTIAL_STORE=off``; True turns it
            on anywhere (gunicorn workers, a process pool); False turns it
            off; a folder or a `CredentialStore` chooses where.

    Returns:
        A `boto3.Session` (an `AssumedRoleSession`) with
        ``assume_role_parent_session`` set to ``session``.

    Raises:
        botocore.exceptions.NoCredentialsError: The parent has no credentials.
        InvalidParameterError: A parameter breaks a rule (also a `ValueError`).
        botocore.exceptions.ParamValidationError: A parameter has a wrong type.

    Example:
        >>> import boto3
        >>> from lambda_assume_role import assume_role
        >>> parent = boto3.Session(aws_access_key_id="AKIDEXAMPLE",
        ...                        aws_secret_access_key="example", region_name="us-east-1")
        >>> tenant = assume_role(parent, "arn:aws:iam::123456789012:role/Reader")  # no call yet
        >>> tenant.client("s3").list_buckets()["Buckets"]
        []
    """
    # The signature above is the one hand-written copy of the parameter
    # tables in `lambda_assume_role.parameters` (kept for type checkers and
    # IDEs); a test checks they agree. Everything below derives from the tables.
    given = locals()
    keywords = {name: given[name] for name in (*ASSUME_ROLE_KEYWORDS, *SESSION_OPTIONS)}
    prepared = prepare_role(session, RoleArn, keywords, require_credentials=True)
    return session_for_role(session, prepared)


def session_for_role(session: boto3.Session, prepared: PreparedRole) -> AssumedRoleSession:
    """Build the session for a prepared role (`lambda_assume_role.role.prepare_role`)."""
    return session_for_parameters(
        session,
        prepared.params,
        region_name=prepared.region_name,
        cache=prepared.cache,
        refresh_windows=prepared.refresh_windows,
        credential_store=prepared.credential_store,
    )


def session_for_parameters(
    session: boto3.Session,
    params: AssumeRoleParameters,
    *,
    region_name: str | bool | None = None,
    cache: MutableMapping[str, Any] | None = None,
    refresh_windows: RefreshWindows | None = None,
    credential_store: Any = None,
) -> AssumedRoleSession:
    """Build the session for already prepared parameters (see `assume_role`)."""
    from lambda_assume_role.credential_store import resolve_store

    register_restore_hook()
    protect_botocore_logs()
    # Made now, not at the first refresh: building a client is no STS call, and
    # here (usually module scope) it lands in the function's init, where
    # SnapStart and provisioned concurrency absorb it.
    sts_client_for(session)
    windows = refresh_windows or DEFAULT_WINDOWS
    fetcher = AssumeRoleFetcher(
        session,
        params,
        cache=cache,
        cache_min_remaining=windows.advisory_window(params.duration_seconds or 3600),
        windows=windows,
        store=resolve_store(credential_store),
    )
    credentials = AssumeRoleCredentials(fetcher, role_arn=params.role_arn, windows=windows)

    parent_botocore = session._session
    child = new_botocore_session(parent_botocore.get_config_variable("data_path"))
    child.register_component(
        "credential_provider",
        botocore.credentials.CredentialResolver([_ProvidedCredentials(credentials)]),
    )

    region: str | None
    if region_name is True:
        region = session.region_name
    elif region_name is False or region_name is None:
        region = None
    else:
        region = region_name
    if region_name is None:
        # Explicitly set on the child first, else whatever the parent says now.
        child.get_component("config_store").set_config_provider(
            "region",
            botocore.configprovider.ChainProvider(
                [
                    botocore.configprovider.InstanceVarProvider("region", child),
                    _ParentConfigProvider("region", parent_botocore),
                ]
            ),
        )

    return AssumedRoleSession(
        botocore_session=child, region_name=region, parent=session, credentials=credentials
    )


def patch_boto3() -> None:
    """Add ``boto3.assume_role()`` and ``boto3.Session.assume_role()``.

    Each takes the same arguments as `assume_role`, without the session: the
    first uses boto3's default session, the second the session it is called on.

    Example:
        >>> import boto3, lambda_assume_role
        >>> lambda_assume_role.patch_boto3()
        >>> session = boto3.assume_role("arn:aws:iam::123456789012:role/Reader")  # no call yet
        >>> session.role_arn
        'arn:aws:iam::123456789012:role/Reader'
    """
    # setattr: boto3 declares neither attribute; adding them is this function's job.
    setattr(boto3.Session, "assume_role", assume_role)  # noqa: B010

    @functools.wraps(assume_role)
    def assume_role_with_default_session(RoleArn: str, **kwargs: Any) -> boto3.Session:
        return assume_role(boto3._get_default_session(), RoleArn, **kwargs)

    setattr(boto3, "assume_role", assume_role_with_default_session)  # noqa: B010
