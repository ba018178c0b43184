"""Serving a class from one process: the limiter that queues computations (limiter), the worker
processes that run them (workers), the machine it sizes both to (host), the process-wide caches
of results (cache, theory_cache) and the figures every session shares (figures).

Kept light on purpose: a worker process imports ui.serving.workers, and with it this package.
"""
