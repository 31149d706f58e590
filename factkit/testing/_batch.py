"""A fake OpenAI Batch API (``/v1/files`` and ``/v1/batches``) on ``127.0.0.1``, for offline tests.

Each line of a batch is answered by a :class:`~factkit.testing._server.FakeOpenAIServer` that this server runs inside
itself (:attr:`FakeBatchServer.chat`, with the given ``handler`` and scripted ``replies``), so a batch answer is
exactly what the live endpoint would have answered: 200 lines go to the output file, any other status to the error
file (``"response": {"status_code": ..., "body": ...}``), and a reply that gets no HTTP answer at all
(:meth:`Reply.drop`, :meth:`Reply.hang`) to the error file as ``"response": null, "error": {"code", "message"}``::

    with FakeBatchServer(handler=lambda request: Reply.json({...}), polls=2) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test-key")

A batch is ``validating`` when created, ``in_progress`` for the next ``polls`` retrievals, then ``completed``
(``polls=0``: completed at the first retrieval), its lines answered at that moment. ``final_status`` ("failed",
"expired", "cancelled") ends every later batch that way instead: "failed" without any file, "expired" and
"cancelled" with every line in the error file. Input files over ``max_requests`` lines or ``max_bytes`` bytes make
the batch fail, as the real API does. ``POST /v1/chat/completions`` is answered live by the same inner server.
"""

from __future__ import annotations

import email.parser
import email.policy
import http.client
import json
import threading
import time
import uuid
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast

from ._server import SECRET_MARKER, FakeOpenAIServer, RecordedRequest, Reply, ReplyHandler

__all__ = ["FakeBatchServer"]

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "api-key", "x-api-key"})
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


def _error(message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, fake: FakeBatchServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: dropped connections and shutdowns are expected here."""


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server_version = "FakeOpenAIBatch/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Silence http.server's per-request logging."""

    @property
    def fake(self) -> FakeBatchServer:
        return cast(_Server, self.server).fake

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {k.lower(): (SECRET_MARKER if k.lower() in _SECRET_HEADERS else v) for k, v in self.headers.items()}
        try:
            parsed = json.loads(body) if body and "json" in headers.get("content-type", "") else None
        except ValueError:
            parsed = None
        self.fake._record(RecordedRequest(method=self.command, path=self.path, headers=headers, json=parsed, body=body))
        return body

    def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _route(self) -> list[str]:
        path = self.path.split("?", 1)[0].strip("/")
        parts = path.split("/")
        return parts[1:] if parts and parts[0] == "v1" else parts

    def do_GET(self) -> None:
        self._body()
        route, fake = self._route(), self.fake
        if route == ["batches"]:
            with fake._lock:
                data = [fake._public(b) for b in reversed(fake.batches.values())]
            self._send(200, {"object": "list", "data": data, "has_more": False})
        elif len(route) == 2 and route[0] == "batches" and route[1] in fake.batches:
            self._send(200, fake._poll(route[1]))
        elif len(route) == 2 and route[0] == "files" and route[1] in fake.files:
            self._send(200, fake._file_object(route[1]))
        elif len(route) == 3 and route[0] == "files" and route[1] in fake.files and route[2] == "content":
            self._send(200, fake.files[route[1]]["content"], "application/octet-stream")
        else:
            self._send(404, _error(f"unknown path {self.path}"))

    def do_POST(self) -> None:
        body = self._body()
        route, fake = self._route(), self.fake
        if route == ["chat", "completions"]:
            status, answer = fake._answer_raw(body)
            self._send(status, answer)
        elif route == ["files"]:
            ctype = self.headers.get("Content-Type", "")
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + body
            )
            fields: dict[str, tuple[str, bytes]] = {}
            for part in message.iter_parts() if message.is_multipart() else []:
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                fields[str(name)] = (str(part.get_filename() or ""), payload if isinstance(payload, bytes) else b"")
            if "file" not in fields or fields.get("purpose", ("", b""))[1] != b"batch":
                self._send(400, _error("give a file and purpose=batch"))
                return
            self._send(200, fake._add_file(fields["file"][1], fields["file"][0] or "input.jsonl", "batch"))
        elif route == ["batches"]:
            try:
                request = json.loads(body)
                file_id = request["input_file_id"]
            except (ValueError, KeyError, TypeError):
                self._send(400, _error("give input_file_id, endpoint and completion_window"))
                return
            if file_id not in fake.files:
                self._send(404, _error(f"no such file {file_id}"))
                return
            self._send(200, fake._create_batch(file_id, str(request.get("endpoint")), request.get("metadata")))
        elif len(route) == 3 and route[0] == "batches" and route[1] in fake.batches and route[2] == "cancel":
            self._send(200, fake._finish(route[1], "cancelled"))
        else:
            self._send(404, _error(f"unknown path {self.path}"))


class FakeBatchServer:
    """A scriptable OpenAI Batch API on ``127.0.0.1``; see the module docstring."""

    def __init__(
        self,
        replies: Iterable[Reply] | None = None,
        *,
        handler: ReplyHandler | None = None,
        polls: int = 0,
        final_status: str = "completed",
        max_requests: int = 50_000,
        max_bytes: int = 200 * 1024 * 1024,
        model_ids: Iterable[str] = ("fake-model",),
    ) -> None:
        self.chat = FakeOpenAIServer(replies, handler=handler, model_ids=model_ids)
        self.polls = polls
        self.final_status = final_status
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self._requests: list[RecordedRequest] = []
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> FakeBatchServer:
        if self._server is None:
            self.chat.start()
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeBatchServer", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=1.0)
        self.chat.stop()

    def __enter__(self) -> FakeBatchServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeBatchServer is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    # -- scripting and inspection ---------------------------------------------------------------------
    def set_handler(self, handler: ReplyHandler | None) -> None:
        """Set the handler that answers each batch line (and each live chat completion)."""
        self.chat.set_handler(handler)

    def push(self, *replies: Reply) -> None:
        """Script the next answers, in the order the lines are answered (then the handler answers)."""
        self.chat.push(*replies)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every HTTP request this server received (credentials masked), in arrival order."""
        with self._lock:
            return list(self._requests)

    def lines(self, batch_id: str | None = None) -> list[dict[str, Any]]:
        """The request lines of one batch's input file (of every batch without ``batch_id``)."""
        with self._lock:
            chosen = [b for b in self.batches.values() if batch_id in (None, b["id"])]
            return [json.loads(line) for b in chosen for line in self.files[b["input_file_id"]]["content"].splitlines()]

    # -- used by the request handler ------------------------------------------------------------------
    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _add_file(self, content: bytes, filename: str, purpose: str) -> dict[str, Any]:
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        with self._lock:
            self.files[file_id] = {"content": content, "filename": filename, "purpose": purpose, "at": int(time.time())}
            return self._file_object(file_id)

    def _file_object(self, file_id: str) -> dict[str, Any]:
        f = self.files[file_id]
        return {
            "id": file_id,
            "object": "file",
            "bytes": len(f["content"]),
            "created_at": f["at"],
            "filename": f["filename"],
            "purpose": f["purpose"],
            "status": "processed",
        }

    def _create_batch(self, file_id: str, endpoint: str, metadata: Any) -> dict[str, Any]:
        batch_id = f"batch_{uuid.uuid4().hex[:24]}"
        with self._lock:
            self.batches[batch_id] = {
                "id": batch_id,
                "object": "batch",
                "endpoint": endpoint,
                "errors": None,
                "input_file_id": file_id,
                "completion_window": "24h",
                "status": "validating",
                "output_file_id": None,
                "error_file_id": None,
                "created_at": int(time.time()),
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
                "metadata": metadata if isinstance(metadata, dict) else None,
                "_polls": 0,
            }
            return self._public(self.batches[batch_id])

    @staticmethod
    def _public(batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in batch.items() if not k.startswith("_")}

    def _poll(self, batch_id: str) -> dict[str, Any]:
        with self._lock:
            batch = self.batches[batch_id]
            if batch["status"] not in TERMINAL:
                if batch["_polls"] >= self.polls:
                    return self._finish(batch_id, self.final_status)
                batch["_polls"] += 1
                batch["status"] = "in_progress"
            return self._public(batch)

    def _finish(self, batch_id: str, status: str) -> dict[str, Any]:
        with self._lock:
            batch = self.batches[batch_id]
            if batch["status"] in TERMINAL:
                return self._public(batch)
            content = self.files[batch["input_file_id"]]["content"]
            lines = [json.loads(line) for line in content.splitlines() if line.strip()]
            now = int(time.time())
            too_big = len(lines) > self.max_requests or len(content) > self.max_bytes
            if status == "failed" or too_big:
                message = f"the input file holds {len(lines)} requests, {len(content)} bytes: over the limits"
                batch.update(status="failed", failed_at=now, errors={"object": "list", "data": [{"message": message}]})
                return self._public(batch)
            outputs: list[dict[str, Any]] = []
            errors: list[dict[str, Any]] = []
            for line in lines:
                entry: dict[str, Any] = {"id": f"batch_req_{uuid.uuid4().hex[:24]}", "custom_id": line.get("custom_id")}
                if status != "completed":
                    entry.update(response=None, error={"code": f"batch_{status}", "message": f"the batch {status}"})
                    errors.append(entry)
                    continue
                code, body = self._answer_raw(json.dumps(line.get("body")).encode())
                if code == 0:
                    entry.update(response=None, error={"code": "server_error", "message": str(body)})
                    errors.append(entry)
                    continue
                response = {"status_code": code, "request_id": f"req_{uuid.uuid4().hex[:24]}", "body": body}
                entry.update(response=response, error=None)
                (outputs if code == 200 else errors).append(entry)
            if outputs:
                batch["output_file_id"] = self._add_file(_jsonl(outputs), "output.jsonl", "batch_output")["id"]
            if errors:
                batch["error_file_id"] = self._add_file(_jsonl(errors), "errors.jsonl", "batch_output")["id"]
            counts = {"total": len(lines), "completed": len(outputs), "failed": len(errors)}
            batch.update(status=status, request_counts=counts, **{f"{status}_at": now})
            return self._public(batch)

    def _answer_raw(self, body: bytes) -> tuple[int, Any]:
        """The inner chat server's answer to one request: (status, JSON body), or (0, why) without an answer."""
        port = int(self.chat.base_url.rsplit(":", 1)[1].split("/", 1)[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            try:
                return response.status, json.loads(data)
            except ValueError:
                return response.status, {"error": {"message": data.decode("utf-8", "replace")[:200]}}
        except (OSError, http.client.HTTPException) as exc:
            return 0, f"no answer from the model ({type(exc).__name__})"
        finally:
            conn.close()


def _jsonl(entries: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in entries)
