#!/usr/bin/env python3
"""Creates one stage's tables and queues on the moto server that `source tests/moto/moto.sh`
started, and prints the functions' environment as KEY=VALUE lines (for
`cargo lambda watch --env-file`). Safe to run again: existing resources are kept.

There is no `epages-sync` command for this; the tests and benchmarks call
`aws_adapters::provision::provision_stage` (shared/aws/src/provision.rs), which is the
source of truth for what is created here: the table layout of shared/aws/src/keys.rs and
the queue settings of `stage_queue_specs` (shared/connector/src/stage.rs). Refuses any
endpoint that is not on loopback, so it never touches real AWS.

    .venv-tools/bin/python infra/events/moto-stage.py dev > .state/moto-dev.env
"""

import json
import os
import sys
import urllib.parse

import boto3

endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
if urllib.parse.urlparse(endpoint).hostname not in ("127.0.0.1", "localhost", "::1"):
    sys.exit("AWS_ENDPOINT_URL=%r is not moto on loopback: run `source tests/moto/moto.sh` first" % endpoint)

stage = sys.argv[1] if len(sys.argv) > 1 else "dev"
prefix = "epages-sync-%s" % stage
dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")


def table(name):
    """pk/sk, the gsi1 index on gsi1pk/gsi1sk (projection ALL), on demand, TTL on expires_at."""
    if name not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": attribute, "AttributeType": "S"}
                for attribute in ("pk", "sk", "gsi1pk", "gsi1sk")
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi1",
                    "KeySchema": [
                        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        dynamodb.get_waiter("table_exists").wait(TableName=name)
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"AttributeName": "expires_at", "Enabled": True},
        )
    return name


def queue_pair(name, fifo, visibility_timeout):
    """The dead-letter queue, then the queue redriving to it after 5 receives."""
    suffix = ".fifo" if fifo else ""
    common = {"FifoQueue": "true"} if fifo else {}
    dead_letter_url = sqs.create_queue(QueueName="%s-dlq%s" % (name, suffix), Attributes=common)["QueueUrl"]
    dead_letter_arn = sqs.get_queue_attributes(
        QueueUrl=dead_letter_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    attributes = dict(common)
    attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": 5})
    attributes["VisibilityTimeout"] = str(visibility_timeout)
    queue_url = sqs.create_queue(QueueName=name + suffix, Attributes=attributes)["QueueUrl"]
    return queue_url, dead_letter_url


state_table = table(prefix + "-state")
activity_table = table(prefix + "-activity")
poll, poll_dlq = queue_pair(prefix + "-poll", False, 720)
order_events, order_events_dlq = queue_pair(prefix + "-order-events", True, 360)
commands, commands_dlq = queue_pair(prefix + "-commands", True, 360)

# The functions' environment (StageResources::env_vars), plus where moto is.
for key, value in [
    ("STATE_TABLE", state_table),
    ("ACTIVITY_TABLE", activity_table),
    ("SECRETS_PREFIX", "epages-sync/%s" % stage),
    ("POLL_QUEUE_URL", poll),
    ("ORDER_EVENTS_QUEUE_URL", order_events),
    ("COMMAND_QUEUE_URL", commands),
    ("POLL_DLQ_URL", poll_dlq),
    ("ORDER_EVENTS_DLQ_URL", order_events_dlq),
    ("COMMAND_DLQ_URL", commands_dlq),
    ("AWS_ENDPOINT_URL", endpoint),
    ("AWS_REGION", os.environ.get("AWS_REGION", "eu-west-1")),
    ("AWS_ACCESS_KEY_ID", os.environ.get("AWS_ACCESS_KEY_ID", "test")),
    ("AWS_SECRET_ACCESS_KEY", os.environ.get("AWS_SECRET_ACCESS_KEY", "test")),
]:
    print("%s=%s" % (key, value))
