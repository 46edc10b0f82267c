"""Switchboard's two Celery broker transports: kombu's own, each with the change that keeps a worker alive.

A broker message is only a wake-up: the database rows are the record and the sweepers wake
what is due. So a transport may drop an unreadable message or fail a restore, but must never
take the worker down with it.

Redis (``RedisTransport``, named by ``CELERY_BROKER_TRANSPORT`` when ``REDIS_URL`` is set).
In kombu 5.7.0 (the newest release), when the broker connection breaks, Celery's consumer
collects the connection, which detaches the transport from its connection details
(``transport.client = None``), and then closes it. Closing the channel restores the
unacknowledged messages through a new connection pool built from those details, so it raises
AttributeError('NoneType' object has no attribute 'hostname'). That is not one of the
transport's connection errors, nothing catches it, and the worker exits with "Unrecoverable
error". Here a channel without connection details raises a connection error instead, which the
consumer expects and ignores while it reconnects: the restore fails as it would against a Redis
that is down anyway, and the unacknowledged messages come back after the visibility timeout.

Embedded (``FileTransport``, the ``switchboard-files://`` broker URL). kombu's file-system
transport creates a message file under its final name and then writes it, so another process
can take the file while it is still empty; and it claims a file by moving it into the system
temp folder, which on another file system is a copy that two consumers can make at once, one of
them reading it half-written. Either way the worker read a file that was not JSON and died with
``Unrecoverable error: JSONDecodeError``. Here a publisher writes the whole message under a
temporary name in ``incoming/`` and renames it into the queue folder, so a ``.msg`` file is
complete or absent; a consumer claims a file by renaming it into ``claimed/`` beside it (one
rename, one winner), reads it and deletes it. Whatever is still wrong with a file (empty, not
JSON, not a kombu message: a disk that filled up, a hand-made file) is logged by name and size,
never its content, and dropped. The broker URL names this transport (registered below;
config.celery imports this module) rather than Celery's ``broker_transport`` setting, which
would also win over any other URL handed to a connection.
"""

import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

import structlog
from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.transport import redis as kombu_redis
from kombu.utils.json import dumps, loads
from kombu.utils.objects import cached_property
from redis.exceptions import ConnectionError as RedisConnectionError

log = structlog.get_logger(__name__)


class RedisChannel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict:
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection was closed while it was being used")
        return super()._connparams(asynchronous=asynchronous)


class RedisTransport(kombu_redis.Transport):
    Channel = RedisChannel


class FileChannel(filesystem.Channel):
    @cached_property
    def incoming_folder(self) -> Path:
        return _folder(Path(self.data_folder_out) / "incoming")

    @cached_property
    def claimed_folder(self) -> Path:
        return _folder(Path(self.data_folder_in) / "claimed")

    def _put(self, queue: str, payload: dict, **kwargs) -> None:
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        staged = self.incoming_folder / name
        try:
            staged.write_bytes(dumps(payload).encode())
            os.rename(staged, Path(self.data_folder_out) / name)
        except OSError as exc:
            staged.unlink(missing_ok=True)
            raise ChannelError(f"Cannot add {name!r} to the queue folder") from exc

    def _get(self, queue: str) -> dict:
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            claimed = self.claimed_folder / f"{os.getpid()}-{name}"
            try:
                os.rename(Path(self.data_folder_in) / name, claimed)
            except OSError:
                continue  # another consumer claimed it first
            try:
                raw = claimed.read_bytes()
            except OSError as exc:
                raise ChannelError(f"Cannot read {name!r} from the queue folder") from exc
            finally:
                claimed.unlink(missing_ok=True)
            payload, fault = self._parse(raw)
            if payload is not None:
                return payload
            log.warning("broker.message_dropped", file=name, size=len(raw), reason=fault)
        raise Empty()

    def _parse(self, raw: bytes) -> tuple[dict | None, str]:
        """The message in ``raw``, or None and what is wrong with it."""
        if not raw.strip():
            return None, "empty"
        try:
            payload = loads(raw)
        except ValueError:
            return None, "not_json"
        try:
            self.Message(payload, channel=self)  # what the consumer will build from it
        except Exception:  # noqa: BLE001 - any shape kombu cannot read is the same fault
            return None, "not_a_message"
        return payload, ""


class FileTransport(filesystem.Transport):
    Channel = FileChannel


SCHEME = "switchboard-files"
TRANSPORT_ALIASES[SCHEME] = f"{__name__}:FileTransport"


def _folder(path: Path) -> Path:
    path.mkdir(exist_ok=True)
    return path
