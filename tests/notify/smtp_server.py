"""A tiny SMTP server on 127.0.0.1 for tests: stores what it receives; a recipient in
`reject` is refused with 550 (permanent), one in `busy` with 451 (temporary)."""
from __future__ import annotations

import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    def _say(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        srv = self.server
        self._say("220 localhost test SMTP")
        rcpts, data_mode, data = [], False, []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if data_mode:
                if line == ".":
                    srv.messages.append({"rcpts": rcpts, "data": "\r\n".join(data)})
                    rcpts, data_mode, data = [], False, []
                    self._say("250 OK queued")
                else:
                    data.append(line[1:] if line.startswith("..") else line)
                continue
            cmd = line.split(" ", 1)[0].upper()
            if cmd in ("EHLO", "HELO"):
                self._say("250 localhost")
            elif cmd == "MAIL":
                self._say("250 OK")
            elif cmd == "RCPT":
                addr = line.split(":", 1)[1].strip().strip("<>")
                if addr in srv.reject:
                    self._say("550 No such user")
                elif addr in srv.busy:
                    self._say("451 Try again later")
                else:
                    rcpts.append(addr)
                    self._say("250 OK")
            elif cmd == "DATA":
                data_mode = True
                self._say("354 End data with <CR><LF>.<CR><LF>")
            elif cmd == "RSET":
                rcpts = []
                self._say("250 OK")
            elif cmd == "QUIT":
                self._say("221 Bye")
                return
            else:
                self._say("250 OK")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.messages: list[dict] = []
        self.reject: set[str] = set()
        self.busy: set[str] = set()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self) -> "SmtpServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()
