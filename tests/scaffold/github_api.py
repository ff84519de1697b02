"""A small stand-in for the GitHub REST endpoints the workflows' scripts call, on 127.0.0.1.

Issues and pull requests share one number space, as on GitHub; comments belong to either.
Lists are paged with a ``Link: <...>; rel="next"`` header (``page_size`` forces small pages so
the scripts' paging is exercised). Every request is journaled. Bodies over GitHub's limit
(65,536 characters, counted in UTF-16 code units as GitHub counts them) are refused with 422,
as GitHub does, so a test sees a workflow that would
post a comment GitHub refuses.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BOT = {"login": "github-actions[bot]", "type": "Bot"}
LIMIT = 65536


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any] | None


@dataclass
class GitHub:
    repo: str = "acme/campaigns"
    token: str = "ghs_test-job-token"
    page_size: int = 100
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    journal: list[Call] = field(default_factory=list)
    url: str = ""
    _next: int = 1
    _server: ThreadingHTTPServer | None = None

    # --- what tests set up and read ---

    def pull_request(self) -> int:
        return self._add_issue(
            {"title": "A pull request", "body": "", "pull_request": {}, "user": {"login": "dev"}}
        )

    def human_comment(self, number: int, body: str) -> dict[str, Any]:
        return self._add_comment(number, body, {"login": "someone", "type": "User"})

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["issue"] == number]

    def open_issues(self) -> list[dict[str, Any]]:
        return [i for i in self.issues.values() if "pull_request" not in i and i["state"] == "open"]

    def writes(self) -> list[Call]:
        return [c for c in self.journal if c.method != "GET"]

    # --- the server ---

    def start(self) -> GitHub:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_GET(self) -> None:
                api._handle(self, "GET")

            def do_POST(self) -> None:
                api._handle(self, "POST")

            def do_PATCH(self) -> None:
                api._handle(self, "PATCH")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _add_issue(self, fields: dict[str, Any]) -> int:
        number = self._next
        self._next += 1
        self.issues[number] = {
            "number": number,
            "state": "open",
            "state_reason": None,
            "html_url": f"https://github.test/{self.repo}/issues/{number}",
            **fields,
        }
        return number

    def _add_comment(self, number: int, body: str, user: dict[str, Any]) -> dict[str, Any]:
        comment_id = 1000 + len(self.comments)
        comment = {
            "id": comment_id,
            "issue": number,
            "body": body,
            "user": user,
            "html_url": f"https://github.test/{self.repo}/issues/{number}#issuecomment-{comment_id}",
        }
        self.comments[comment_id] = comment
        return comment

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length)) if length else None
        self.journal.append(Call(method, parts.path, body))
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            return self._send(handler, 401, {"message": "Bad credentials"})
        prefix = f"/repos/{self.repo}/issues"
        if not parts.path.startswith(prefix):
            return self._send(handler, 404, {"message": "Not Found"})
        rest = [p for p in parts.path.removeprefix(prefix).split("/") if p]
        if isinstance(body, dict) and len(str(body.get("body", "")).encode("utf-16-le")) // 2 > LIMIT:
            return self._send(
                handler, 422, {"message": "Validation Failed: body is too long (maximum is 65536 characters)"}
            )
        query = parse_qs(parts.query)
        if method == "GET" and rest == []:
            state = query.get("state", ["open"])[0]
            items = [i for i in self.issues.values() if state == "all" or i["state"] == state]
            return self._page(handler, parts.path, query, items)
        if method == "POST" and rest == []:
            number = self._add_issue({"title": body["title"], "body": body["body"], "user": BOT})
            return self._send(handler, 201, self.issues[number])
        if method == "PATCH" and len(rest) == 1 and rest[0].isdigit():
            issue = self.issues[int(rest[0])]
            issue.update({k: v for k, v in body.items() if k in {"body", "state", "state_reason", "title"}})
            return self._send(handler, 200, issue)
        if len(rest) == 2 and rest[0].isdigit() and rest[1] == "comments":
            number = int(rest[0])
            if number not in self.issues:
                return self._send(handler, 404, {"message": "Not Found"})
            if method == "GET":
                return self._page(handler, parts.path, query, self.comments_on(number))
            if method == "POST":
                return self._send(handler, 201, self._add_comment(number, body["body"], BOT))
        if method == "PATCH" and len(rest) == 2 and rest[0] == "comments" and rest[1].isdigit():
            comment = self.comments[int(rest[1])]
            if comment["user"] != BOT:
                return self._send(handler, 403, {"message": "Resource not accessible by integration"})
            comment["body"] = body["body"]
            return self._send(handler, 200, comment)
        return self._send(handler, 404, {"message": "Not Found"})

    def _page(
        self,
        handler: BaseHTTPRequestHandler,
        path: str,
        query: dict[str, list[str]],
        items: list[dict[str, Any]],
    ) -> None:
        size = min(int(query.get("per_page", ["30"])[0]), self.page_size)
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(items):
            rest = "&".join(f"{k}={v[0]}" for k, v in query.items() if k != "page")
            headers["Link"] = f'<{self.url}{path}?{rest}&page={page + 1}>; rel="next"'
        self._send(handler, 200, chunk, headers)

    def _send(
        self, handler: BaseHTTPRequestHandler, status: int, data: Any, headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(data).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(payload)
