"""HotMesh reference worker for Python: serve HotMesh activities from any Python process.

The worker speaks the activity protocol (docs/protocol.md, version 3) through the ``hotmesh``
Redis Functions library that HotMesh's Redis store loads: it claims tasks with
``FCALL hotmesh_claim``, runs the registered function, heartbeats with ``hotmesh_heartbeat``
(which also says when the workflow no longer wants the result) and reports with
``hotmesh_complete`` / ``hotmesh_fail``. Only ``redis-py`` is needed.

    from hotmesh_worker import ApplicationError, Worker, context

    worker = Worker("redis://localhost:6379", task_queue="legacy")

    @worker.activity()
    def charge(order_id, cents):
        context().heartbeat({"step": "charging"})
        return {"charged": cents}

    worker.run()
"""
from .worker import (
    PROTOCOL_VERSION,
    ActivityCancelled,
    ActivityContext,
    ActivityInfo,
    ApplicationError,
    ProtocolError,
    Worker,
    context,
)

__all__ = [
    "PROTOCOL_VERSION",
    "ActivityCancelled",
    "ActivityContext",
    "ActivityInfo",
    "ApplicationError",
    "ProtocolError",
    "Worker",
    "context",
]
