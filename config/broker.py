"""The Redis broker transport, with the one change that keeps a worker alive across a Redis restart.

kombu 5.7.0 (the newest release): when the broker connection breaks, Celery's consumer
collects the connection, which detaches the transport from its connection details
(``transport.client = None``), and then closes it. Closing the channel restores the
unacknowledged messages through a new connection pool built from those details, so it raises
AttributeError('NoneType' object has no attribute 'hostname'). That is not one of the transport's
connection errors, nothing catches it, and the worker exits with "Unrecoverable error".

Here a channel without connection details raises a connection error instead, which the consumer
expects and ignores while it reconnects: the restore fails as it would against a Redis that is
down anyway, and the unacknowledged messages come back after the visibility timeout. Nothing
depends on them: the database rows are the record and the sweepers wake what is due.
"""

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict:
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection was closed while it was being used")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
