"""`manage.py jobs metrics_server`: one port for every worker process on a worker-only machine."""

from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app, multiprocess

from . import multiprocess_dir


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # a scrape every 15 s is not news
        pass


def metrics_app():
    """A WSGI app exposing the sum of every process's series in PROMETHEUS_MULTIPROC_DIR."""
    if not multiprocess_dir():
        raise ValueError("PROMETHEUS_MULTIPROC_DIR is not set: the workers' metrics have nowhere to be read from")
    registry = CollectorRegistry(auto_describe=False)
    multiprocess.MultiProcessCollector(registry)
    return make_wsgi_app(registry)


def serve_metrics(host, port, ready=None):
    """Serve /metrics (any path) until interrupted. The ledger's gauges are left to the web's /metrics."""
    server = make_server(host, port, metrics_app(), handler_class=_QuietHandler)
    if ready is not None:
        ready(f"http://{host}:{server.server_port}/metrics")
    server.serve_forever()
