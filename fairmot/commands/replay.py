"""`fairmot replay`: put the videos waiting in the batch dead-letter queue back into admission.

Videos land in the dead-letter queue when the scheduler could not admit them (maxReceiveCount
receives) or when their batch waited QuotaWaitSeconds for a processing slot; the
BatchDeadLetterAlarm says so. Once the cause is fixed (a quota raised, a model deployed), this
moves every message (or --max of them) to the admission queue, where the next scheduler round
batches them as usual. A message is deleted from the dead-letter queue only after the
admission queue took it, so an interrupted replay loses nothing (at worst one is sent twice,
and the batch plan processes a duplicate once).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

SQS_MAX_MESSAGES = 10  # per ReceiveMessage / SendMessageBatch / DeleteMessageBatch
DEAD_LETTER_OUTPUT = "BatchDeadLetterQueueUrl"
ADMISSION_OUTPUT = "AdmissionQueueUrl"


class ReplayError(RuntimeError):
    """The queues could not be found or reached; the message says which and why."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="move the batch dead-letter queue's videos back into the admission queue",
        description=(
            "Re-admit the videos of the batch dead-letter queue: name the deployed stack "
            "(--stack; its outputs name both queues) or give both queue URLs."
        ),
    )
    parser.add_argument("--stack", help="the deployed CloudFormation stack")
    parser.add_argument("--from-url", help="dead-letter queue URL (instead of --stack)")
    parser.add_argument("--to-url", help="admission queue URL (instead of --stack)")
    parser.add_argument("--max", type=int, default=None, help="move at most this many")
    parser.add_argument("--region", help="AWS region (default: boto3's)")
    parser.set_defaults(func=run)


def stack_queues(cloudformation: Any, stack: str) -> tuple[str, str]:
    """(dead-letter URL, admission URL) from the stack's outputs."""
    try:
        (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except Exception as error:  # botocore's ClientError and friends: say which stack
        raise ReplayError(f"cannot read stack {stack!r}: {error}") from error
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = [k for k in (DEAD_LETTER_OUTPUT, ADMISSION_OUTPUT) if k not in outputs]
    if missing:
        raise ReplayError(
            f"stack {stack!r} has no output {', '.join(missing)}: is it this project?"
        )
    return outputs[DEAD_LETTER_OUTPUT], outputs[ADMISSION_OUTPUT]


def replay(sqs: Any, source: str, target: str, limit: int | None = None) -> int:
    """Move up to `limit` messages (all when None) from source to target; how many moved."""
    moved = 0
    while limit is None or moved < limit:
        want = SQS_MAX_MESSAGES if limit is None else min(SQS_MAX_MESSAGES, limit - moved)
        messages = sqs.receive_message(
            QueueUrl=source, MaxNumberOfMessages=want, VisibilityTimeout=60, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return moved
        sent = sqs.send_message_batch(
            QueueUrl=target,
            Entries=[{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)],
        )
        if sent.get("Failed"):
            first = sent["Failed"][0]
            raise ReplayError(f"the admission queue refused a message: {first.get('Message')}")
        sqs.delete_message_batch(
            QueueUrl=source,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
        moved += len(messages)
    return moved


def run(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    if args.stack and (args.from_url or args.to_url):
        print("give --stack or --from-url/--to-url, not both", file=sys.stderr)
        return 2
    if not args.stack and not (args.from_url and args.to_url):
        print("name the stack (--stack) or both queues (--from-url and --to-url)", file=sys.stderr)
        return 2
    if args.max is not None and args.max < 1:
        print("--max must be at least 1", file=sys.stderr)
        return 2
    try:
        source, target = (
            stack_queues(boto3.client("cloudformation", region_name=args.region), args.stack)
            if args.stack
            else (args.from_url, args.to_url)
        )
        moved = replay(boto3.client("sqs", region_name=args.region), source, target, args.max)
    except (ReplayError, BotoCoreError, ClientError) as error:
        print(f"fairmot replay: {error}", file=sys.stderr)
        return 1
    print(f"replayed {moved} message(s) from {source} to {target}")
    return 0
