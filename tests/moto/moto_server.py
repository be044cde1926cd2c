"""moto server with DynamoDB requests applied one at a time (started by tests/moto/moto.sh).

Real DynamoDB applies every conditional write atomically. moto's threaded server checks a
condition and writes without a lock, so two concurrent conditional writes can both pass;
the race tests of the state ports (one lease, one idempotency claim out of 16) would then
fail because of the emulator, not the code. Every DynamoDB request holds one lock here.
Other services stay concurrent: an SQS long poll must not hold up other requests.
"""

import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_dynamodb_lock = threading.Lock()
_dispatch = DynamoHandler._dispatch


def _serialised_dispatch(self, *args, **kwargs):
    with _dynamodb_lock:
        return _dispatch(self, *args, **kwargs)


DynamoHandler._dispatch = _serialised_dispatch

if __name__ == "__main__":
    main()
