"""The worker: claim, run, heartbeat, report (docs/protocol.md, protocol version 3)."""
import json
import logging
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import redis

PROTOCOL_VERSION = 3
"""The activity protocol version this worker speaks."""

UNLIMITED_RECHECK_S = 1.0
"""How long the worker trusts "this queue has no limits" before asking again (as the Node worker does)."""
IDLE_FIRST_S, IDLE_MAX_S = 0.01, 0.1
"""A limited queue found empty: wait this long before asking again, doubling up to the max."""

_local = threading.local()
_log = logging.getLogger("hotmesh_worker")


class ProtocolError(Exception):
    """Redis does not offer what this worker needs (no library, another protocol, no namespace)."""


class ApplicationError(Exception):
    """Fail the attempt as an ``ApplicationFailure`` of ``type``, with ``details``.

    A retryable one is retried under the activity's retry policy; ``non_retryable=True``
    fails the activity at once (the workflow sees ``ActivityFailure`` caused by
    ``ApplicationFailure``). Any other exception is a retryable failure typed by its class name.
    """

    def __init__(self, message: str, *details: Any, type: Optional[str] = None, non_retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.details = list(details)
        self.type = type
        self.non_retryable = non_retryable


class ActivityCancelled(Exception):
    """Raised by ``ActivityContext.check_cancelled``: the workflow no longer waits for this attempt."""


@dataclass(frozen=True)
class ActivityInfo:
    """What a task says about the attempt (the protocol's task object, in Python names)."""

    task_queue: str
    activity_type: str
    activity_id: str
    attempt: int
    deliveries: int
    workflow_id: str
    run_id: str
    workflow_type: str
    idempotency_key: str
    scheduled_at: int
    attempt_scheduled_at: int
    deadline: Optional[int]
    start_to_close_ms: Optional[int]
    schedule_to_close_ms: Optional[int]
    heartbeat_timeout_ms: Optional[int]
    heartbeat_details: Any
    headers: Dict[str, str]


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, list):
        return [_text(item) for item in value]
    return value


def _encode(value: Any, what: str) -> str:
    """A payload: JSON text, or '' for no value (None)."""
    if value is None:
        return ""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} cannot be serialized as JSON: {error}") from error


class _Task:
    """One claimed attempt being run."""

    def __init__(self, worker: "Worker", stream: str, entry_id: str, deliveries: int, task: Dict[str, Any],
                 lease: Optional[str] = None):
        self.worker = worker
        # The task queue's concurrency lease this attempt holds (hotmesh_acquire), released when it is done.
        self.lease = lease
        self.stream = stream
        self.entry_id = entry_id
        self.deliveries = deliveries
        self.task = task
        now = time.monotonic()
        self.last_touch = now
        self.last_sent = -float("inf")
        self.pending_details: Optional[str] = None
        self.lock = threading.Lock()
        # Set when the workflow no longer waits for this attempt (or its deadline passed): report nothing.
        self.cancelled = threading.Event()
        # Given back at shutdown: someone else owns it now; report nothing, acknowledge nothing.
        self.released = False
        heartbeat_timeout = task.get("heartbeatTimeoutMs")
        self.interval = min(
            worker.heartbeat_throttle_ms,
            worker.visibility_timeout_ms / 3,
            heartbeat_timeout * 0.8 if heartbeat_timeout is not None else float("inf"),
        ) / 1000

    def send_heartbeat(self) -> None:
        with self.lock:
            details, self.pending_details = self.pending_details, None
            self.last_sent = time.monotonic()
        touched, wanted = self.worker._fcall("hotmesh_heartbeat", self.stream, self.entry_id, self.deliveries, details or "")
        if int(touched) == 1:
            self.last_touch = time.monotonic()
        if int(wanted) == 0:
            self.cancelled.set()


class ActivityContext:
    """The running attempt, as its function sees it (``hotmesh_worker.context()``)."""

    def __init__(self, task: _Task, info: ActivityInfo):
        self._task = task
        self.info = info

    def heartbeat(self, details: Any = None) -> None:
        """Record progress: keeps the claim, re-arms the heartbeat timeout, and is kept for a later attempt
        (``info.heartbeat_details``). Throttled: at most one call to Redis per interval, the last details of
        an interval are sent at its end. Learns cancellation (``is_cancelled``)."""
        encoded = _encode(details, "heartbeat details")
        task = self._task
        with task.lock:
            task.pending_details = encoded
            due = time.monotonic() - task.last_sent >= task.interval
        if due:
            task.send_heartbeat()

    def is_cancelled(self) -> bool:
        """Whether the workflow no longer waits for this attempt (cancelled, timed out, superseded)."""
        return self._task.cancelled.is_set()

    def check_cancelled(self) -> None:
        """Raise ``ActivityCancelled`` if ``is_cancelled()``."""
        if self.is_cancelled():
            raise ActivityCancelled("the workflow no longer waits for this attempt")

    def wait_cancelled(self, timeout: Optional[float] = None) -> bool:
        """Block until cancelled (True) or ``timeout`` seconds pass (False)."""
        return self._task.cancelled.wait(timeout)


def context() -> ActivityContext:
    """The context of the activity running on this thread."""
    current = getattr(_local, "context", None)
    if current is None:
        raise RuntimeError("hotmesh_worker.context() called outside an activity")
    return current


class Worker:
    """Serves the activities registered on it from one task queue of a HotMesh namespace.

    ``visibility_timeout_ms`` and ``max_deliveries`` must match the namespace's Node processes
    (their store options; defaults 30 000 ms and 10).
    """

    def __init__(
        self,
        redis_client: Any,
        task_queue: str,
        namespace: str = "default",
        concurrency: int = 10,
        visibility_timeout_ms: int = 30_000,
        max_deliveries: int = 10,
        heartbeat_throttle_ms: int = 1_000,
        consumer: Optional[str] = None,
    ):
        if isinstance(redis_client, str):
            redis_client = redis.Redis.from_url(redis_client)
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if visibility_timeout_ms <= 0:
            raise ValueError("visibility_timeout_ms must be > 0")
        if not namespace or any(c in namespace for c in "{}: \t\n"):
            raise ValueError(f"invalid namespace {namespace!r}")
        self.redis = redis_client
        self.task_queue = task_queue
        self.namespace = namespace
        self.concurrency = concurrency
        self.visibility_timeout_ms = visibility_timeout_ms
        self.max_deliveries = max_deliveries
        self.heartbeat_throttle_ms = heartbeat_throttle_ms
        self.consumer = consumer or f"py:{socket.gethostname()}:{os.getpid()}"
        self._activities: Dict[str, Callable[..., Any]] = {}
        self._running: Dict[str, _Task] = {}
        self._running_lock = threading.Lock()
        self._slots = threading.Semaphore(concurrency)
        self._stop = threading.Event()
        self.streams: List[str] = []
        self.tags: List[str] = []
        self.lanes = 1
        # The task queue's limiter (docs/protocol.md, "Back-pressure"): its own hash tag, not a partition's.
        self.limiter = f"{{{namespace}:q:{task_queue}}}:lim"
        self._unlimited_until = -float("inf")

    # Registration

    def register(self, name: str, function: Callable[..., Any]) -> None:
        """Serve activity type ``name`` with ``function(*args)``."""
        self._activities[name] = function

    def activity(self, name: Optional[str] = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: ``@worker.activity()`` serves the function under its own name (or ``name``)."""

        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            self.register(name or function.__name__, function)
            return function

        return register

    # Protocol

    def _fcall(self, function: str, stream: str, *args: Any) -> Any:
        return _text(self.redis.execute_command("FCALL", function, 1, stream, *args))

    def check(self) -> int:
        """Check the namespace and the function library; returns the partition count.
        Raises ``ProtocolError`` saying what is missing or too old."""
        try:
            protocol, library = _text(self.redis.execute_command("FCALL", "hotmesh_version", 0))
        except redis.ResponseError as error:
            if "unknown command" in str(error).lower():
                raise ProtocolError("this Redis has no functions (FCALL): the hotmesh protocol needs Redis >= 7") from error
            if "function not found" in str(error).lower():
                raise ProtocolError(
                    "the hotmesh function library is not loaded in this Redis (Redis >= 7 needed): "
                    "start a HotMesh process with the Redis store against it, which loads it"
                ) from error
            raise
        if int(protocol) < PROTOCOL_VERSION:
            raise ProtocolError(
                f"the hotmesh function library in Redis is older (protocol {protocol}, library {library}) than this "
                f"worker (protocol {PROTOCOL_VERSION}): start a newer HotMesh process against it to upgrade the library"
            )
        if int(protocol) > PROTOCOL_VERSION:
            raise ProtocolError(
                f"the hotmesh function library in Redis speaks protocol {protocol}; this worker speaks "
                f"{PROTOCOL_VERSION}: upgrade hotmesh_worker"
            )
        partitions, tags, lanes = _text(self.redis.hmget(f"{{{self.namespace}}}:config", "partitions", "tags", "lanes"))
        if partitions is None:
            raise ProtocolError(
                f"namespace {self.namespace!r} has no partition count yet ({{{self.namespace}}}:config): "
                "start a HotMesh process in it first"
            )
        # The partitions' hash tags (protocol 2); a namespace no process of protocol 2 has opened has the
        # legacy names {<ns>:p<N>}.
        self.tags = tags.split(" ") if tags else [f"{{{self.namespace}:p{p}}}" for p in range(int(partitions))]
        if len(self.tags) != int(partitions):
            raise ProtocolError(f"namespace {self.namespace!r}: {len(self.tags)} partition tags for {partitions} partitions")
        # Lanes per activity stream (protocol 3); absent: one, the stream of protocol 2.
        self.lanes = int(lanes) if lanes else 1
        if self.lanes < 1:
            raise ProtocolError(f"namespace {self.namespace!r}: lanes must be >= 1, got {lanes}")
        return int(partitions)

    def lane_streams(self) -> List[str]:
        """Every activity stream of the task queue: each partition's lanes, lane by lane (lane 0 of every
        partition, then lane 1, ...), so claiming them in turn takes from the lanes in turn."""
        return [
            f"{tag}:s:activity:{self.task_queue}" if lane == 0 else f"{tag}:s:activity#{lane}:{self.task_queue}"
            for lane in range(self.lanes)
            for tag in self.tags
        ]

    # Running

    def run(self, ready: Optional[Callable[[], None]] = None) -> None:
        """Claim and run tasks until ``shutdown()``; then give running tasks back and return.
        ``ready`` is called once the namespace and the library have been checked."""
        partitions = self.check()
        self.streams = self.lane_streams()
        cursors = {stream: "0-0" for stream in self.streams}
        wait_from = {stream: "0-0" for stream in self.streams}
        ticker = threading.Thread(target=self._tick, name="hotmesh-ticker", daemon=True)
        ticker.start()
        _log.info("hotmesh_worker: serving %s on task queue %s (%d partitions, %d lanes) as %s",
                  ", ".join(sorted(self._activities)) or "nothing", self.task_queue, partitions, self.lanes, self.consumer)
        if ready is not None:
            ready()
        rotation = 0
        block_ms = max(1, int(min(1_000, self.visibility_timeout_ms / 2)))
        outage = 0
        idle = IDLE_FIRST_S
        try:
            while not self._stop.is_set():
                if not self._slots.acquire(timeout=0.5):
                    continue
                self._slots.release()
                try:
                    permits = self._permits(self._free())
                    if permits is not None and permits[0] == 0:
                        # Paused, the bucket empty or every lease held: ask again when told.
                        outage = 0
                        self._stop.wait(max(0.001, permits[1] / 1000))
                        continue
                    granted = None if permits is None else permits[0]
                    leases = [] if permits is None else permits[2]
                    got = self._claim_round(rotation, cursors, wait_from, granted, leases)
                    if granted is not None and got < granted:
                        # Give back at once what was granted and not claimed (tokens, and the unused leases).
                        self._fcall("hotmesh_unlease", self.limiter, granted - got, *leases[got:])
                    outage = 0
                except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError) as error:
                    # Redis unreachable, or the library gone (a Redis restarted without its data): back off and
                    # try again; running tasks keep their claims until it returns. Anything else is a bug: raise.
                    if isinstance(error, redis.ResponseError) and "function not found" not in str(error).lower():
                        raise
                    outage += 1
                    _log.warning("hotmesh_worker: claiming failed (%s); retrying", error)
                    self._stop.wait(min(2.0, 0.05 * 2 ** outage))
                    continue
                rotation += 1
                if granted is not None:
                    # A limited queue: never block holding permits; found nothing, wait a little and ask again.
                    if got == 0:
                        self._stop.wait(idle)
                        idle = min(IDLE_MAX_S, idle * 2)
                    else:
                        idle = IDLE_FIRST_S
                    continue
                if got == 0 and not self._stop.is_set():
                    # Nothing to claim: wait for a new entry on any partition (or re-scan for stalled ones).
                    try:
                        self.redis.xread(wait_from, count=1, block=block_ms)
                    except (redis.ConnectionError, redis.TimeoutError):
                        continue
        finally:
            self._stop.set()
            self._give_back()

    def _permits(self, want: int) -> Optional[Tuple[int, int, List[str]]]:
        """Ask the task queue's limits for ``want`` starts (``hotmesh_acquire``): ``None`` when the queue has
        no limits (claim freely; asked again after a second), else (granted, retry after ms, lease ids)."""
        if want <= 0 or time.monotonic() < self._unlimited_until:
            return None
        reply = self._fcall("hotmesh_acquire", self.limiter, self.consumer, want, self.visibility_timeout_ms)
        granted, limited, retry_ms = int(reply[0]), int(reply[1]), int(reply[2])
        if limited == 0:
            self._unlimited_until = time.monotonic() + UNLIMITED_RECHECK_S
            return None
        return granted, retry_ms, list(reply[3:])

    def _claim_round(self, rotation: int, cursors: Dict[str, str], wait_from: Dict[str, str],
                     granted: Optional[int] = None, leases: Optional[List[str]] = None) -> int:
        """One claim on each partition in turn (from ``rotation``), while slots are free and, on a limited
        queue, permits remain (``granted``; each task takes the next of ``leases``); returns how many.
        With lanes, the first lane turns from round to round (every lane's partitions are asked before the
        next lane's), so a lane with a trickle of tasks gets first pick every ``lanes`` rounds however
        many tasks wait in another."""
        partitions = len(self.tags)
        leases = leases or []
        got = 0
        for i in range(len(self.streams)):
            lane = (rotation + i // partitions) % self.lanes
            stream = self.streams[lane * partitions + (rotation // self.lanes + i) % partitions]
            free = self._free() if granted is None else min(self._free(), granted - got)
            if free <= 0:
                break
            reply = self._fcall("hotmesh_claim", stream, self.consumer, free, self.visibility_timeout_ms,
                                self.max_deliveries, cursors[stream])
            cursors[stream], wait_from[stream] = reply[0], reply[2]
            for j in range(3, len(reply), 3):
                lease = leases[got] if got < len(leases) else None
                got += 1
                self._start(stream, reply[j], int(reply[j + 1]), json.loads(reply[j + 2]), lease)
        return got

    def shutdown(self) -> None:
        """Stop claiming; ``run`` gives running tasks back for immediate re-delivery and returns."""
        self._stop.set()

    def _free(self) -> int:
        with self._running_lock:
            return self.concurrency - len(self._running)

    def _start(self, stream: str, entry_id: str, deliveries: int, task: Dict[str, Any],
               lease: Optional[str] = None) -> None:
        self._slots.acquire()
        running = _Task(self, stream, entry_id, deliveries, task, lease)
        with self._running_lock:
            self._running[f"{stream} {entry_id}"] = running
        threading.Thread(target=self._execute, args=(running,), name=f"hotmesh-{entry_id}", daemon=True).start()

    def _execute(self, running: _Task) -> None:
        try:
            self._report(running, self._invoke(running))
        except Exception:  # noqa: BLE001 - a worker bug or Redis down: the task is re-delivered after the visibility timeout
            _log.exception("hotmesh_worker: task %s could not be reported; it will be re-delivered", running.entry_id)
        finally:
            with self._running_lock:
                self._running.pop(f"{running.stream} {running.entry_id}", None)
            self._unlease(running)
            self._slots.release()

    def _unlease(self, running: _Task) -> None:
        """Release the attempt's concurrency lease (after its report); a lease left behind expires after the
        visibility timeout."""
        lease, running.lease = running.lease, None
        if lease is None:
            return
        try:
            self._fcall("hotmesh_unlease", self.limiter, 0, lease)
        except redis.RedisError as error:
            _log.warning("hotmesh_worker: could not release lease %s (%s); it expires after the visibility timeout",
                         lease, error)

    def _invoke(self, running: _Task) -> List[Any]:
        """Run the activity; returns the FCALL (function and arguments after the key) that reports it."""
        task = running.task
        info = ActivityInfo(
            task_queue=self.task_queue,
            activity_type=task["activityType"],
            activity_id=task["activityId"],
            attempt=task["attempt"],
            deliveries=running.deliveries,
            workflow_id=task["workflowId"],
            run_id=task["runId"],
            workflow_type=task["workflowType"],
            idempotency_key=task["idempotencyKey"],
            scheduled_at=task["scheduledAt"],
            attempt_scheduled_at=task["attemptScheduledAt"],
            deadline=task.get("deadline"),
            start_to_close_ms=task.get("startToCloseMs"),
            schedule_to_close_ms=task.get("scheduleToCloseMs"),
            heartbeat_timeout_ms=task.get("heartbeatTimeoutMs"),
            heartbeat_details=task.get("heartbeatDetails"),
            headers=task.get("headers") or {},
        )
        function = self._activities.get(info.activity_type)
        if function is None:
            registered = ", ".join(sorted(self._activities)) or "none"
            return ["hotmesh_fail", "NotFoundError",
                    f"Activity function {info.activity_type} is not registered on this worker (task queue "
                    f"{self.task_queue}); registered: {registered}", "0", ""]
        _local.context = ActivityContext(running, info)
        try:
            result = function(*task["args"])
        except ApplicationError as error:
            details = [_encode(detail, "a failure detail") for detail in error.details]
            return ["hotmesh_fail", error.type or "Error", error.message, "1" if error.non_retryable else "0",
                    traceback.format_exc(), *details]
        except Exception as error:  # noqa: BLE001 - any exception fails the attempt (retryably)
            return ["hotmesh_fail", type(error).__name__, str(error), "0", traceback.format_exc()]
        finally:
            _local.context = None
        try:
            return ["hotmesh_complete", _encode(result, f"result of activity {info.activity_type}")]
        except TypeError as error:
            return ["hotmesh_fail", "DataConverterError", str(error), "1", ""]

    def _report(self, running: _Task, call: List[Any]) -> None:
        if running.released:
            return
        if running.cancelled.is_set():
            call = ["hotmesh_ack"]
        function, args = call[0], call[1:]
        for attempt in range(5):
            try:
                self._fcall(function, running.stream, running.entry_id, *args)
                return
            except redis.ConnectionError:
                if attempt == 4:
                    raise
                time.sleep(0.1 * 2 ** attempt)

    def _tick(self) -> None:
        """One thread for all running tasks: touch claims every third of the visibility timeout, send
        throttled heartbeats, cancel attempts whose deadline passed."""
        touch_every = self.visibility_timeout_ms / 3 / 1000
        period = min(1.0, touch_every)
        last_renew = time.monotonic()
        while not self._stop.wait(period):
            now = time.monotonic()
            with self._running_lock:
                running = list(self._running.values())
            leases = [task.lease for task in running if task.lease is not None]
            if leases and now - last_renew >= touch_every - period:
                last_renew = now
                try:
                    self._fcall("hotmesh_renew", self.limiter, self.visibility_timeout_ms, *leases)
                except redis.RedisError as error:
                    _log.warning("hotmesh_worker: renewing leases failed: %s", error)
            for task in running:
                try:
                    deadline = task.task.get("deadline")
                    if deadline is not None and time.time() * 1000 >= deadline:
                        task.cancelled.set()
                    if task.pending_details is not None and now - task.last_sent >= task.interval:
                        task.send_heartbeat()
                    elif now - task.last_touch >= touch_every - period:
                        task.last_touch = now
                        self._fcall("hotmesh_touch", task.stream, task.entry_id, task.deliveries)
                except redis.RedisError as error:
                    _log.warning("hotmesh_worker: keeping task %s alive failed: %s", task.entry_id, error)

    def _give_back(self) -> None:
        with self._running_lock:
            running = list(self._running.values())
        for task in running:
            task.released = True
            task.cancelled.set()
            try:
                self._fcall("hotmesh_release", task.stream, task.entry_id, task.deliveries)
            except redis.RedisError as error:
                _log.warning("hotmesh_worker: could not give task %s back (%s); it is re-delivered after the "
                             "visibility timeout", task.entry_id, error)
            self._unlease(task)
