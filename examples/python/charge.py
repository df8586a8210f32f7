import os

from hotmesh_worker import ApplicationError, Worker, context

worker = Worker(os.environ.get("REDIS_URL", "redis://localhost:6379"), task_queue="legacy")


@worker.activity()
def charge(order, cents):
    context().heartbeat({"step": "charging"})  # context().is_cancelled(): the workflow gave up
    if cents <= 0:
        raise ApplicationError("nothing to charge", {"cents": cents}, type="InvalidAmount", non_retryable=True)
    return {"order": order, "charged": cents}


worker.run()
