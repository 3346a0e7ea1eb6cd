"""organization_accounts against a real (moto) organization over HTTP.

Each test builds its own organization, because the shared fixtures reset moto
before every test: 32 member accounts in a root with OUs nested three deep
(about 0.4 s). The caller, 123456789012, is the management account.

Fields moto cannot produce (``State`` and ``Status`` that disagree, no
``State`` at all, a throttled page) are made by the fault proxy rewriting
moto's real answer on the wire, so botocore still parses a real HTTP response.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from emulators.fault_proxy import FaultProxy, set_element
from emulators.moto_server import RequestLog
from lambda_assume_role.errors import InvalidParameterError
from lambda_assume_role.fanout import Target, organization_accounts

MANAGEMENT = "123456789012"

# Where the 32 member accounts go: OU path (from the root) -> number of accounts.
LAYOUT = {
    (): 6,
    ("prod",): 8,
    ("prod", "eu"): 6,
    ("prod", "eu", "web"): 4,
    ("dev",): 8,
}

SMALL = {(): 2, ("prod",): 2, ("prod", "eu"): 1, ("prod", "eu", "web"): 1, ("dev",): 4}


@dataclass
class Organization:
    root: str
    ous: dict[tuple[str, ...], str] = field(default_factory=dict)
    accounts: dict[tuple[str, ...], list[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def under(self, *path: str) -> set[str]:
        """The member accounts in the OU at ``path`` and every OU below it."""
        return {
            account
            for ou_path, ids in self.accounts.items()
            if ou_path[: len(path)] == path
            for account in ids
        }

    @property
    def members(self) -> set[str]:
        return self.under()


def build_organization(
    session: boto3.Session,
    layout: dict[tuple[str, ...], int] | None = None,
    *,
    confirm: bool = True,
) -> Organization:
    """Create the organization of ``layout`` in moto, as the management account.

    ``confirm`` asks DescribeCreateAccountStatus for each account, as real code
    must (CreateAccount is asynchronous in AWS); moto answers SUCCEEDED at once,
    so bulk builds skip it.
    """
    client = session.client("organizations")
    client.create_organization(FeatureSet="ALL")
    org = Organization(root=client.list_roots()["Roots"][0]["Id"])
    org.ous[()] = org.root
    count = 0
    for path, size in (layout or LAYOUT).items():
        if path not in org.ous:
            parent_id = org.ous[path[:-1]]
            unit = client.create_organizational_unit(ParentId=parent_id, Name=path[-1])
            org.ous[path] = unit["OrganizationalUnit"]["Id"]
        org.accounts[path] = []
        for _ in range(size):
            count += 1
            request = client.create_account(
                AccountName=f"account-{count}", Email=f"account-{count}@example.com"
            )["CreateAccountStatus"]
            if confirm:
                request = client.describe_create_account_status(
                    CreateAccountRequestId=request["Id"]
                )["CreateAccountStatus"]
            assert request["State"] == "SUCCEEDED"
            account_id = request["AccountId"]
            if path:
                client.move_account(
                    AccountId=account_id,
                    SourceParentId=org.root,
                    DestinationParentId=org.ous[path],
                )
            org.accounts[path].append(account_id)
            org.names[account_id] = f"account-{count}"
    return org


def ids(targets: Iterable[Target]) -> list[str]:
    return [target.account_id for target in targets]


def rewrite_accounts(change: Callable[[dict[str, Any]], None]) -> Callable[[bytes], bytes]:
    """A fault-proxy transform that applies ``change`` to every account in a ListAccounts page."""

    def transform(body: bytes) -> bytes:
        page = json.loads(body)
        for account in page["Accounts"]:
            change(account)
        return json.dumps(page).encode()

    return transform


@pytest.fixture
def org(parent: boto3.Session) -> Organization:
    """The organization of LAYOUT: 32 members, OUs three deep (about 100 requests)."""
    return build_organization(parent)


@pytest.fixture
def small_org(parent: boto3.Session) -> Organization:
    """Ten members in the same OUs, for tests where the size of the organization is no matter."""
    return build_organization(parent, SMALL)


# --- the whole organization ---------------------------------------------------------------


def test_lists_every_active_member_account_once_without_ous(
    parent: boto3.Session, org: Organization
) -> None:
    targets = list(organization_accounts(parent))

    assert len(org.members) == 32
    assert MANAGEMENT not in ids(targets)
    assert sorted(ids(targets)) == sorted(org.members)
    assert all(target == Target(target.account_id) for target in targets)  # region None


def test_the_default_parent_is_a_new_boto3_session(
    small_org: Organization, requests_log: RequestLog
) -> None:
    assert set(ids(organization_accounts())) == small_org.members
    assert {r.access_key for r in requests_log.matching("ListAccounts")} == {"AKIAIOSFODNN7EXAMPLE"}


def test_organizations_is_called_with_the_parents_credentials(
    small_org: Organization, requests_log: RequestLog
) -> None:
    other = boto3.Session(
        aws_access_key_id="AKIAOTHERPARENTKEY01",
        aws_secret_access_key="other-parent-secret",
        region_name="eu-west-1",
    )

    assert set(ids(organization_accounts(other))) == small_org.members
    calls = requests_log.matching("ListAccounts") + requests_log.matching("GetCallerIdentity")
    assert {call.access_key for call in calls} == {"AKIAOTHERPARENTKEY01"}


def test_the_callers_own_account_is_skipped_unless_include_self(
    parent: boto3.Session, small_org: Organization, requests_log: RequestLog
) -> None:
    without = ids(organization_accounts(parent))
    assert MANAGEMENT not in without
    assert requests_log.count("GetCallerIdentity") == 1

    requests_log.clear()
    with_self = ids(organization_accounts(parent, include_self=True))
    assert sorted(with_self) == sorted([*without, MANAGEMENT])
    assert requests_log.count("GetCallerIdentity") == 0


def test_the_caller_is_who_sts_says_not_the_management_account(
    small_org: Organization, fault_proxy: FaultProxy
) -> None:
    # A delegated administrator lists the organization from a member account:
    # its own account is the one to skip, and the management account is a target.
    member = small_org.accounts[("dev",)][0]
    fault_proxy.rewrite("GetCallerIdentity", set_element("Account", member))

    listed = ids(organization_accounts(boto3.Session()))

    assert member not in listed
    assert MANAGEMENT in listed
    assert sorted(listed) == sorted((small_org.members - {member}) | {MANAGEMENT})


def test_nothing_is_sent_until_the_first_target_is_asked_for(
    parent: boto3.Session, small_org: Organization, requests_log: RequestLog
) -> None:
    requests_log.clear()
    targets = organization_accounts(parent)
    assert requests_log.all() == []

    next(targets)
    assert requests_log.count("ListAccounts") == 1


def test_the_first_target_arrives_before_the_last_page_is_requested(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    # moto pages ListAccounts by 100: 100 members and the management account make two pages.
    org = build_organization(parent, {(): 100}, confirm=False)
    requests_log.clear()

    targets = organization_accounts(parent)
    first = next(targets)
    assert requests_log.count("ListAccounts") == 1

    rest = list(targets)
    assert requests_log.count("ListAccounts") == 2
    assert sorted([first.account_id, *ids(rest)]) == sorted(org.members)


def test_a_throttled_page_is_retried_whatever_the_environment_says(
    small_org: Organization,
    fault_proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Organizations throttles at a few requests per second: a listing keeps its
    # own retries even where the environment turned botocore's off.
    monkeypatch.setenv("AWS_RETRY_MODE", "legacy")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    fault_proxy.respond(
        "ListAccounts",
        json.dumps({"__type": "TooManyRequestsException", "Message": "slow down"}),
        status=400,
        content_type="application/x-amz-json-1.1",
        times=1,
    )

    assert set(ids(organization_accounts(boto3.Session()))) == small_org.members
    assert fault_proxy.faulted("ListAccounts") == 1
    assert fault_proxy.forwarded("ListAccounts") == 1


# --- OUs ----------------------------------------------------------------------------------


def test_an_ou_is_walked_with_every_ou_nested_below_it(
    parent: boto3.Session, org: Organization, requests_log: RequestLog
) -> None:
    listed = ids(organization_accounts(parent, ous=[org.ous[("prod",)]]))

    assert len(org.under("prod")) == 8 + 6 + 4
    assert sorted(listed) == sorted(org.under("prod"))
    assert requests_log.count("ListAccounts") == 0
    assert len(requests_log.matching("ListAccountsForParent")) == 3  # prod, eu, web


def test_two_ous_yield_the_accounts_of_both(parent: boto3.Session, small_org: Organization) -> None:
    listed = ids(
        organization_accounts(parent, ous=[small_org.ous[("prod", "eu")], small_org.ous[("dev",)]])
    )

    assert sorted(listed) == sorted(small_org.under("prod", "eu") | small_org.under("dev"))


def test_an_ou_given_with_its_parent_is_walked_once(
    parent: boto3.Session, small_org: Organization, requests_log: RequestLog
) -> None:
    listed = ids(
        organization_accounts(
            parent,
            ous=[
                small_org.ous[("prod", "eu", "web")],
                small_org.ous[("prod",)],
                small_org.ous[("prod",)],
            ],
        )
    )

    assert len(listed) == len(set(listed))
    assert set(listed) == small_org.under("prod")
    assert requests_log.count("ListAccountsForParent") == 3


def test_the_root_as_ou_lists_what_the_whole_listing_does(
    parent: boto3.Session, org: Organization
) -> None:
    walked = ids(organization_accounts(parent, ous=[org.root]))

    assert len(walked) == len(set(walked))
    assert sorted(walked) == sorted(ids(organization_accounts(parent)))
    assert set(walked) == org.members


def test_an_ou_walk_is_lazy_across_pages(parent: boto3.Session, requests_log: RequestLog) -> None:
    # moto pages ListAccountsForParent by 20.
    org = build_organization(parent, {("big",): 25})
    requests_log.clear()

    targets = organization_accounts(parent, ous=[org.ous[("big",)]])
    next(targets)
    assert requests_log.count("ListAccountsForParent") == 1

    assert len(list(targets)) == 24
    assert requests_log.count("ListAccountsForParent") == 2


def test_an_empty_ou_list_lists_nothing(
    parent: boto3.Session, small_org: Organization, requests_log: RequestLog
) -> None:
    requests_log.clear()
    assert list(organization_accounts(parent, ous=[])) == []
    assert requests_log.matching("ListAccounts") == []
    assert requests_log.matching("ListAccountsForParent") == []


# --- include / exclude --------------------------------------------------------------------


def test_include_restricts_to_those_accounts(
    parent: boto3.Session, small_org: Organization
) -> None:
    chosen = [small_org.accounts[("dev",)][0], small_org.accounts[("prod", "eu", "web")][0]]

    assert sorted(ids(organization_accounts(parent, include=chosen))) == sorted(chosen)


def test_include_within_ous_keeps_only_the_accounts_under_them(
    parent: boto3.Session, small_org: Organization
) -> None:
    inside, outside = small_org.accounts[("prod", "eu")][0], small_org.accounts[("dev",)][0]

    listed = ids(
        organization_accounts(parent, ous=[small_org.ous[("prod",)]], include=[inside, outside])
    )

    assert listed == [inside]


def test_include_stops_listing_once_every_account_is_seen(
    parent: boto3.Session, small_org: Organization, requests_log: RequestLog
) -> None:
    first_in_root = small_org.accounts[()][0]
    requests_log.clear()

    assert ids(organization_accounts(parent, ous=[small_org.root], include=(first_in_root,))) == [
        first_in_root
    ]
    assert requests_log.count("ListAccountsForParent") == 1
    assert requests_log.count("ListOrganizationalUnitsForParent") == 0


def test_an_empty_include_lists_nothing_and_sends_nothing(
    parent: boto3.Session, requests_log: RequestLog
) -> None:
    assert list(organization_accounts(parent, include=[])) == []
    assert requests_log.all() == []


def test_exclude_removes_those_accounts(parent: boto3.Session, small_org: Organization) -> None:
    dropped = set(small_org.accounts[("prod",)][:2])

    listed = ids(organization_accounts(parent, exclude=iter(dropped)))

    assert sorted(listed) == sorted(small_org.members - dropped)


def test_exclude_wins_over_include(parent: boto3.Session, small_org: Organization) -> None:
    both = small_org.accounts[("dev",)][:2]

    listed = ids(organization_accounts(parent, include=both, exclude=both[:1]))

    assert listed == both[1:]


def test_predicates_see_the_accounts_description(parent: boto3.Session, org: Organization) -> None:
    seen: list[Mapping[str, Any]] = []

    def named_1x(account: Mapping[str, Any]) -> bool:
        seen.append(account)
        return str(account["Name"]).startswith("account-1")

    excluded = org.accounts[()][0]  # account-1

    listed = ids(organization_accounts(parent, include=named_1x, exclude=[excluded]))

    expected = {a for a, name in org.names.items() if name.startswith("account-1")} - {excluded}
    assert len(expected) == 10  # account-10 .. account-19
    assert sorted(listed) == sorted(expected)
    assert {"Id", "Name", "Email", "Arn", "State"} <= set(seen[0])


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"include": ["1234"]}, "include"),
        ({"include": ["123456789012", 123456789012]}, "include"),
        ({"exclude": ["abcdefghijkl"]}, "exclude"),
        ({"include": "123456789012"}, "include"),
        ({"exclude": 123456789012}, "exclude"),
        ({"ous": ["123456789012"]}, "ous"),
        ({"ous": "ou-ab12-cd34ef56"}, "ous"),
    ],
)
def test_bad_ids_are_refused_at_the_call_before_any_request(
    parent: boto3.Session, requests_log: RequestLog, arguments: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidParameterError, match=rf"^{named} must"):
        organization_accounts(parent, **arguments)
    assert requests_log.all() == []


# --- active accounts only -----------------------------------------------------------------


def test_closed_accounts_are_skipped(parent: boto3.Session, org: Organization) -> None:
    closed = {org.accounts[()][1], org.accounts[("prod", "eu", "web")][0]}
    client = parent.client("organizations")
    for account_id in closed:
        client.close_account(AccountId=account_id)
    states = {a["Id"]: a.get("State", a["Status"]) for a in client.list_accounts()["Accounts"]}
    assert {states[a] for a in closed} == {"SUSPENDED"}

    assert set(ids(organization_accounts(parent))) == org.members - closed
    assert set(ids(organization_accounts(parent, ous=[org.root]))) == org.members - closed
    assert set(ids(organization_accounts(parent, include=closed))) == set()


@pytest.mark.parametrize(
    ("state", "status", "kept"),
    [
        pytest.param("SUSPENDED", "ACTIVE", False, id="State decides over Status"),
        pytest.param("ACTIVE", "SUSPENDED", True, id="State decides over Status, either way"),
        pytest.param("PENDING_CLOSURE", "ACTIVE", False, id="PENDING_CLOSURE"),
        pytest.param("CLOSED", None, False, id="CLOSED"),
        pytest.param("PENDING_ACTIVATION", None, False, id="PENDING_ACTIVATION"),
        pytest.param(None, "SUSPENDED", False, id="Status when State is absent"),
        # AWS stopped sending Status on 2026-09-09. A botocore whose model predates
        # State (1.34, the floor) drops State while parsing: it must still be read.
        pytest.param("SUSPENDED", None, False, id="State alone, Status retired"),
    ],
)
def test_an_account_is_kept_by_its_state_else_its_status(
    parent: boto3.Session,
    small_org: Organization,
    fault_proxy: FaultProxy,
    state: str | None,
    status: str | None,
    kept: bool,
) -> None:
    # One account gets these fields; the others keep ACTIVE in the fields the odd one has.
    odd = small_org.accounts[("prod",)][1]

    def describe(account: dict[str, Any]) -> None:
        for name, value in (("State", state), ("Status", status)):
            if value is None:
                del account[name]
            elif account["Id"] == odd:
                account[name] = value

    fault_proxy.rewrite("ListAccounts", rewrite_accounts(describe))

    listed = set(ids(organization_accounts(parent)))

    assert fault_proxy.faulted("ListAccounts") == 1
    assert listed == (small_org.members if kept else small_org.members - {odd})


def test_an_account_with_neither_state_nor_status_is_skipped_with_a_warning(
    parent: boto3.Session,
    small_org: Organization,
    fault_proxy: FaultProxy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    blank = small_org.accounts[("dev",)][2]

    def undescribed(account: dict[str, Any]) -> None:
        if account["Id"] == blank:
            del account["State"], account["Status"]

    fault_proxy.rewrite("ListAccounts", rewrite_accounts(undescribed))

    with caplog.at_level(logging.WARNING, logger="lambda_assume_role"):
        listed = set(ids(organization_accounts(parent)))

    assert listed == small_org.members - {blank}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "organization_accounts skipped 1 accounts that Organizations described with "
        "neither State nor Status"
    ]
