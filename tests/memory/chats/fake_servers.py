"""A scripted HTTP server on 127.0.0.1 standing in for an LLM endpoint or api.telegram.org."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeServer:
    """Answers each request from `routes` (path prefix -> list of answers, used in order; the last repeats).

    An answer is (status, body, headers, delay): body bytes are sent as they are, anything else as JSON.
    Every request is recorded as {"method", "path", "body"}.
    """

    def __init__(self):
        self.requests, self.routes = [], {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                server.requests.append({"method": self.command, "path": self.path,
                                        "body": json.loads(raw) if raw else None})
                prefix = max((p for p in server.routes if self.path.startswith(p)), key=len, default=None)
                if prefix is None:
                    status, body, headers, delay = 404, {"ok": False, "description": "Not Found"}, {}, 0.0
                else:
                    answers = server.routes[prefix]
                    status, body, headers, delay = answers.pop(0) if len(answers) > 1 else answers[0]
                time.sleep(delay)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    headers = {"Content-Type": "application/json", **headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    if "Content-Length" not in headers:
                        self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and hung up, as a timeout test wants

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def route(self, prefix, *answers):
        """Script the answers to requests whose path starts with prefix."""
        self.routes[prefix] = [_full(*answer) for answer in answers]

    def paths(self):
        return [r["path"] for r in self.requests]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def _full(status, body, headers=None, delay=0.0):
    return status, body, headers or {}, delay


def completion(content, status=200, delay=0.0):
    """A chat completion answer whose message content is content (a dict becomes JSON text)."""
    text = json.dumps(content) if isinstance(content, dict) else content
    return (status, {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}, {}, delay)
