"""Every S3 bucket without a public access block, in every account and region of an organization.

Three handlers, one per function of the state machine in ``statemachine.asl.json``:

- `lister`: the organization's active accounts (`organization_accounts`) times the
  regions, written to S3 already cut into batches: a JSON array of ``{"Items": [...]}``,
  which the Distributed Map reads with ``ItemReader``.
- `worker`: one batch. `fan_out` runs the check in each target with this invocation's
  Lambda ``context`` as the deadline; the outcomes go to S3 as JSON Lines (one line per
  target), then a small manifest: the counts and the targets not reached in time.
- `collector`: after each Map round, the round's leftovers (from the manifests; a batch
  with no manifest, because its worker failed, counts as not done except for the
  targets its outcomes file already lists) become the next round's batches.

The state payload carries only counts and S3 keys, never results, so it stays far
below Step Functions' 256 KB at any organization size. Every key is derived from the
execution name (the run id), the round and the batch index, so a retried worker
overwrites its own objects instead of adding a second copy: a target appears in
exactly one outcomes file of a run, or in the last round's leftovers.

Layout in ``RESULTS_BUCKET``, under ``runs/<run id>/round-<NNN>/``:

- ``batches.json``: the round's batches (``[{"Items": [{"account_id", "region"}, ...]}]``);
- ``outcomes/batch-<NNNNN>.jsonl``: one line per finished target (`outcome_record`);
- ``manifests/batch-<NNNNN>.json``: ``{"summary": {...}, "remaining": [...]}``;
- ``collected.json``: what the collector saw for the round.

Environment:
    RESULTS_BUCKET: The bucket for batches, outcomes and manifests (all functions).
    REGIONS: Comma-separated regions to check in each account (lister; default: the
        function's own region). The execution input's ``regions`` list wins.
    BATCH_SIZE: Targets per batch (lister, collector; default 100).
    MAX_ROUNDS: Map rounds before giving up on leftovers (lister; default 3).
    MEMBER_ROLE_NAME: The role the worker assumes in each account (default
        ``OrganizationAccountAccessRole``).
    MAX_WORKERS: Targets in flight per worker (default 16).
    RESERVE_SECONDS: Time a worker keeps for writing its results before Lambda's
        deadline (default 10).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.exceptions import ClientError

from lambda_assume_role.fanout import Outcome, Target, fan_out, organization_accounts

NO_CONFIGURATION = "NoSuchPublicAccessBlockConfiguration"
BLOCK_SETTINGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


def _setting(name: str, default: str) -> str:
    return os.environ.get(name) or default


def round_prefix(run_id: str, round_number: int) -> str:
    """The S3 prefix of one round of one run."""
    return f"runs/{run_id}/round-{round_number:03d}"


def batches_key(run_id: str, round_number: int) -> str:
    """Where a round's batches are (the Map's ``ItemReader`` reads it)."""
    return f"{round_prefix(run_id, round_number)}/batches.json"


def outcomes_key(run_id: str, round_number: int, batch: int) -> str:
    """Where one batch's outcomes are, as JSON Lines."""
    return f"{round_prefix(run_id, round_number)}/outcomes/batch-{batch:05d}.jsonl"


def manifest_key(run_id: str, round_number: int, batch: int) -> str:
    """Where one batch's summary and leftovers are; written last, so it means "worker done"."""
    return f"{round_prefix(run_id, round_number)}/manifests/batch-{batch:05d}.json"


def cut(items: Iterable[Mapping[str, Any]], size: int) -> list[dict[str, list[Any]]]:
    """Items in consecutive batches of ``size``, as the Map reads them: ``[{"Items": [...]}]``.

    Items stay in order, so an account's regions (adjacent) mostly share a batch, and
    `fan_out` assumes the account's role once for all of them.

    Example:
        >>> cut([{"n": 1}, {"n": 2}, {"n": 3}], 2)
        [{'Items': [{'n': 1}, {'n': 2}]}, {'Items': [{'n': 3}]}]
    """
    if size < 1:
        raise ValueError(f"BATCH_SIZE must be at least 1; got {size}")
    batches: list[dict[str, list[Any]]] = []
    for item in items:
        if not batches or len(batches[-1]["Items"]) == size:
            batches.append({"Items": []})
        batches[-1]["Items"].append(dict(item))
    return batches


# --- the job: one account in one region ----------------------------------------------


def buckets_without_public_access_block(session: boto3.Session, target: Target) -> dict[str, Any]:
    """The target region's buckets, and those not fully covered by a bucket public access block.

    A bucket counts as "without" when it has no configuration at all
    (``NoSuchPublicAccessBlockConfiguration``) or when any of the four settings is
    off. (An account-level block, in S3 Control, is not read here.)

    Returns:
        ``{"buckets": <count in this region>, "without_public_access_block": [names]}``.
    """
    s3 = session.client("s3")
    names = list(_bucket_names(s3, session.region_name))
    without: list[str] = []
    for name in names:
        try:
            block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != NO_CONFIGURATION:
                raise
            without.append(name)
            continue
        if not all(block.get(setting) for setting in BLOCK_SETTINGS):
            without.append(name)
    return {"buckets": len(names), "without_public_access_block": sorted(without)}


def _bucket_names(s3: Any, region: str) -> Iterator[str]:
    # ListBuckets filters by region on the server since botocore 1.35.4x; an older
    # runtime's botocore lacks the parameter, so ask each bucket's location instead.
    if "BucketRegion" in s3.meta.service_model.operation_model("ListBuckets").input_shape.members:
        for page in s3.get_paginator("list_buckets").paginate(BucketRegion=region):
            yield from (bucket["Name"] for bucket in page.get("Buckets", []))
        return
    for bucket in s3.list_buckets().get("Buckets", []):
        location = s3.get_bucket_location(Bucket=bucket["Name"]).get("LocationConstraint")
        if (location or "us-east-1") == region:
            yield bucket["Name"]


def error_code(error: BaseException | None) -> str | None:
    """The AWS error code behind an error (following ``__cause__``), or None."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ClientError):
            return str(error.response.get("Error", {}).get("Code") or "") or None
        error = error.__cause__ or error.__context__
    return None


def outcome_record(outcome: Outcome) -> dict[str, Any]:
    """One JSON Lines object: the target, how it ended, and the value's findings.

    Only the error's type and AWS code are kept, never its message: a message can
    quote request details, and the type and code are what a report groups by.
    """
    value = outcome.value if isinstance(outcome.value, Mapping) else {}
    return {
        "account_id": outcome.target.account_id,
        "region": outcome.target.region,
        "phase": outcome.phase,
        "error_type": type(outcome.error).__name__ if outcome.error is not None else None,
        "error_code": error_code(outcome.error),
        "seconds": round(outcome.seconds, 3),
        "buckets": value.get("buckets"),
        "without_public_access_block": value.get("without_public_access_block"),
    }


# --- the three handlers ----------------------------------------------------------------


def lister(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Write round 1's batches: every active member account times every region.

    Event (what the state machine passes): ``{"run_id": <execution name>, "input":
    <execution input>}``; the input may hold ``regions`` (a list), ``ous`` (OU or root
    ids to walk), ``batch_size`` and ``max_rounds``.

    Returns:
        The state the rest of the machine carries: ``run_id``, ``bucket``, ``round``
        (1), ``batches_key``, ``batches`` (count), ``targets`` (count), ``batch_size``,
        ``max_rounds`` and ``totals``.
    """
    options = event.get("input") or {}
    run_id = str(event["run_id"])
    bucket = os.environ["RESULTS_BUCKET"]
    parent = boto3.Session()
    regions = options.get("regions") or [
        region.strip()
        for region in _setting("REGIONS", parent.region_name or "us-east-1").split(",")
        if region.strip()
    ]
    batch_size = int(options.get("batch_size") or _setting("BATCH_SIZE", "100"))
    accounts = organization_accounts(parent, ous=options.get("ous") or None)
    # Account-major: an account's regions are neighbours, so they mostly share a batch.
    batches = cut(
        (
            Target(account.account_id, region).as_dict()
            for account in accounts
            for region in regions
        ),
        batch_size,
    )
    _put_json(parent.client("s3"), bucket, batches_key(run_id, 1), batches)
    return {
        "run_id": run_id,
        "bucket": bucket,
        "round": 1,
        "batches_key": batches_key(run_id, 1),
        "batches": len(batches),
        "targets": sum(len(batch["Items"]) for batch in batches),
        "batch_size": batch_size,
        "max_rounds": int(options.get("max_rounds") or _setting("MAX_ROUNDS", "3")),
        "totals": {"done": 0, "failed": 0, "flagged_buckets": 0, "lost_batches": 0},
    }


def worker(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Check one batch's targets within this invocation's time; outcomes and leftovers to S3.

    Event (the Map's ``ItemSelector``): ``run_id``, ``round``, ``batch`` (index) and
    ``items`` (``{"account_id", "region"}`` dicts).

    Returns:
        ``{"batch", "round", "summary": {...}, "remaining": [targets]}``, where the
        summary is `fan_out`'s (``succeeded``, ``failed_target``, ``failed_assume``,
        ``failed_work``, ``remaining``, ``given_up``, ``seconds``, ``reason``) plus
        ``done`` (outcomes written), ``failed`` and ``flagged_buckets``: small,
        whatever the batch's findings. The state machine keeps only ``done`` and ``remaining``.
    """
    run_id, round_number, batch = str(event["run_id"]), int(event["round"]), int(event["batch"])
    bucket = os.environ["RESULTS_BUCKET"]
    parent = boto3.Session()
    run = fan_out(
        buckets_without_public_access_block,
        event["items"],
        role_name=_setting("MEMBER_ROLE_NAME", "OrganizationAccountAccessRole"),
        max_workers=int(_setting("MAX_WORKERS", "16")),
        context=context,
        reserve=float(_setting("RESERVE_SECONDS", "10")),
        parent=parent,
    )
    lines: list[str] = []
    flagged = 0
    for outcome in run:
        record = outcome_record(outcome)
        lines.append(json.dumps(record, separators=(",", ":")))
        flagged += len(record["without_public_access_block"] or ())
    remaining = list(run.remaining)
    counts = run.summary
    summary = {
        **counts.as_dict(),
        "done": counts.yielded,
        "failed": counts.failed_target + counts.failed_assume + counts.failed_work,
        "flagged_buckets": flagged,
    }
    # Outcomes first, the manifest last: a manifest means this batch is accounted for.
    s3 = parent.client("s3")
    s3.put_object(
        Bucket=bucket,
        Key=outcomes_key(run_id, round_number, batch),
        Body="".join(line + "\n" for line in lines).encode(),
        ContentType="application/x-ndjson",
    )
    result = {"batch": batch, "round": round_number, "summary": summary, "remaining": remaining}
    _put_json(s3, bucket, manifest_key(run_id, round_number, batch), result)
    return result


def collector(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Turn a round's leftovers into the next round's batches, from S3 alone.

    For each batch of the round: its manifest's ``remaining``, or, when there is no
    manifest (the worker failed or timed out), the batch's targets that its outcomes
    file does not list. A Distributed Map shows a failed child only as a failure
    count, so reading the batches back is what keeps every target accounted for.

    Event: the state (see `lister`). Returns the same state for the next round:
    ``round`` + 1, the new ``batches_key`` and ``batches`` (0 when nothing remains),
    ``targets`` (leftovers) and updated ``totals``.
    """
    run_id, round_number = str(event["run_id"]), int(event["round"])
    bucket = str(event["bucket"])
    s3 = boto3.Session().client("s3")
    batches = json.loads(s3.get_object(Bucket=bucket, Key=str(event["batches_key"]))["Body"].read())

    def settle(indexed: tuple[int, Mapping[str, Any]]) -> tuple[dict[str, Any] | None, list[Any]]:
        index, batch = indexed
        manifest = _get_json(s3, bucket, manifest_key(run_id, round_number, index))
        if manifest is not None:
            return manifest["summary"], list(manifest["remaining"])
        finished = _finished(s3, bucket, outcomes_key(run_id, round_number, index))
        return None, [item for item in batch["Items"] if _key(item) not in finished]

    with ThreadPoolExecutor(max_workers=16) as pool:
        settled = list(pool.map(settle, enumerate(batches)))

    totals = dict(event.get("totals") or {})
    leftovers: list[Any] = []
    for summary, remaining in settled:
        leftovers.extend(remaining)
        if summary is None:
            totals["lost_batches"] = totals.get("lost_batches", 0) + 1
            continue
        for name in ("done", "failed", "flagged_buckets"):
            totals[name] = totals.get(name, 0) + int(summary.get(name, 0))
    leftovers.sort(key=_key)  # an account's regions side by side: one AssumeRole each
    next_round = round_number + 1
    next_batches = cut(leftovers, int(event.get("batch_size") or _setting("BATCH_SIZE", "100")))
    if next_batches:
        _put_json(s3, bucket, batches_key(run_id, next_round), next_batches)
    _put_json(
        s3,
        bucket,
        f"{round_prefix(run_id, round_number)}/collected.json",
        {"round": round_number, "leftovers": len(leftovers), "totals": totals},
    )
    return {
        **event,
        "round": next_round,
        "batches_key": batches_key(run_id, next_round),
        "batches": len(next_batches),
        "targets": len(leftovers),
        "totals": totals,
    }


# --- S3 helpers ----------------------------------------------------------------------------


def _key(item: Mapping[str, Any]) -> tuple[str, str]:
    return (str(item.get("account_id")), str(item.get("region") or ""))


def _put_json(s3: Any, bucket: str, key: str, value: Any) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(value, separators=(",", ":")).encode(),
        ContentType="application/json",
    )


def _get_json(s3: Any, bucket: str, key: str) -> Any:
    body = _get(s3, bucket, key)
    return None if body is None else json.loads(body)


def _finished(s3: Any, bucket: str, key: str) -> set[tuple[str, str]]:
    body = _get(s3, bucket, key)
    if body is None:
        return set()
    return {_key(json.loads(line)) for line in body.splitlines() if line.strip()}


def _get(s3: Any, bucket: str, key: str) -> bytes | None:
    try:
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise
