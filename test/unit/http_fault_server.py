#!/usr/bin/env python3
"""A misbehaving HTTP server on 127.0.0.1 for test_http (standard library only).

Usage: http_fault_server.py PORT_FILE [CERT_FILE KEY_FILE]
Listens on a free port and writes its number to PORT_FILE once it accepts
connections.  With a certificate and key it also serves the same paths over
TLS on a second free port, written after the first on the same line.  Each path is one behaviour; `key=` names a counter so that
"fail first, then succeed" paths can be used by several tests.

  /ok                    200 "hello"
  /echo                  200, JSON of the method, Content-Type and body received
  /echo-auth             200, the Authorization header received, or "none"
  /slow?ms=N             200 after N ms
  /barrier?n=N&key=K     200 once N requests of key K are in at once (a
                         threading.Barrier; 503 if they are not within 30 s)
  /barrier-peak?key=K    the most requests of key K that were in at once, as
                         the body
  /429-retry-after?key=K&s=S   first 429 with Retry-After: S seconds, then 200
  /429-date?key=K&s=S    first 429 with Retry-After as an HTTP date S s ahead, then 200
  /429-ratelimit?key=K   first 429 with three rateLimit-reset lines (1 / "1, 2" / junk), then 200
  /429-long              always 429, Retry-After: 3600
  /500-then-200?key=K    first 500 (Confluent JSON error), then 200
  /503                   always 503, plain text (the Confluent proxy's overload text)
  /401                   401 that echoes the Authorization header, decoded, in body and header
  /truncated             Content-Length 100, 10 bytes sent, then a clean close
  /reset                 Content-Length 100000, 1000 bytes sent, then a TCP reset
  /big?bytes=N           200 with N bytes and a Content-Length
  /big-chunked?bytes=N   200 with N bytes, chunked (no Content-Length)
  /redirect              302 to /ok
  /redirect-other-host   302 to http://localhost:PORT/echo-auth (another host name)
  /redirect-loop         302 to itself
  /redirect-to-plain     302 to http://127.0.0.1:PORT/ok (plain HTTP, for the TLS port)
"""
import base64
import email.utils
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

hits = {}
hits_lock = threading.Lock()


# /barrier: one barrier per key, and how many of its requests were in at once
barriers = {}
barrier_in = {}
barrier_peak = {}


def barrier_enter(key, parties):
    with hits_lock:
        barrier = barriers.setdefault(key, threading.Barrier(parties, timeout=30))
        barrier_in[key] = barrier_in.get(key, 0) + 1
        barrier_peak[key] = max(barrier_peak.get(key, 0), barrier_in[key])
    try:
        barrier.wait()
        return True
    except threading.BrokenBarrierError:
        return False
    finally:
        with hits_lock:
            barrier_in[key] -= 1


def count(key):
    with hits_lock:
        hits[key] = hits.get(key, 0) + 1
        return hits[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def reply(self, status, body, content_type="text/plain", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.do_GET()

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        key = url.path + ":" + query.get("key", "")
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length) if length else b""
        path = url.path

        if path == "/ok":
            self.reply(200, "hello", headers=[("X-Test", "yes")])
        elif path == "/echo":
            self.reply(200, json.dumps({"method": self.command,
                                        "content_type": self.headers.get("Content-Type"),
                                        "body": received.decode()}),
                       "application/json")
        elif path == "/echo-auth":
            self.reply(200, self.headers.get("Authorization") or "none")
        elif path == "/slow":
            time.sleep(int(query.get("ms", "1000")) / 1000)
            self.reply(200, "slow")
        elif path == "/barrier":
            if barrier_enter(key, int(query.get("n", "1"))):
                self.reply(200, "together")
            else:
                self.reply(503, "the other requests did not come")
        elif path == "/barrier-peak":
            with hits_lock:
                self.reply(200, str(barrier_peak.get("/barrier:" + query.get("key", ""), 0)))
        elif path == "/429-retry-after":
            if count(key) == 1:
                self.reply(429, "", headers=[("Retry-After", query.get("s", "1"))])
            else:
                self.reply(200, "after 429")
        elif path == "/429-date":
            if count(key) == 1:
                when = email.utils.formatdate(time.time() + int(query.get("s", "2")), usegmt=True)
                self.reply(429, "", headers=[("Retry-After", when)])
            else:
                self.reply(200, "after 429")
        elif path == "/429-ratelimit":
            if count(key) == 1:
                self.reply(429, '{"errors":[{"status":"429","detail":"Too many requests"}]}',
                           "application/json",
                           headers=[("rateLimit-limit", "300"), ("rateLimit-reset", "1"),
                                    ("RateLimit-Reset", "1, 2"), ("ratelimit-reset", "junk")])
            else:
                self.reply(200, "after 429")
        elif path == "/429-long":
            self.reply(429, "", headers=[("Retry-After", "3600")])
        elif path == "/500-then-200":
            if count(key) == 1:
                self.reply(500, '{"errors":[{"status":"500","detail":"There was an error '
                           'processing your request. It has been logged (ID 1)."}]}',
                           "application/json")
            else:
                self.reply(200, "after 500")
        elif path == "/503":
            self.reply(503, "upstream connect error or disconnect/reset before headers. "
                       "reset reason: overflow")
        elif path == "/401":
            seen = self.headers.get("Authorization") or ""
            decoded = ""
            if seen.startswith("Basic "):
                decoded = base64.b64decode(seen[6:]).decode(errors="replace")
            self.reply(401, json.dumps({"errors": [{"detail": "Invalid credentials",
                                                    "seen": seen, "decoded": decoded}]}),
                       "application/json", headers=[("X-Seen-Authorization", seen)])
        elif path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/reset":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"x" * 1000)
            self.wfile.flush()
            time.sleep(0.05)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif path == "/big":
            self.reply(200, b"x" * int(query.get("bytes", "1000")))
        elif path == "/big-chunked":
            remaining = int(query.get("bytes", "1000"))
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                while remaining > 0:
                    piece = min(remaining, 65536)
                    self.wfile.write(b"%x\r\n" % piece + b"x" * piece + b"\r\n")
                    remaining -= piece
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                self.close_connection = True
        elif path == "/redirect":
            self.reply(302, "", headers=[("Location", "/ok")])
        elif path == "/redirect-other-host":
            port = self.server.server_address[1]
            self.reply(302, "", headers=[("Location", "http://localhost:%d/echo-auth" % port)])
        elif path == "/redirect-to-plain":
            self.reply(302, "", headers=[("Location", "http://127.0.0.1:%d/ok" % self.server.plain_port)])
        elif path == "/redirect-loop":
            self.reply(302, "", headers=[("Location", "/redirect-loop")])
        else:
            self.reply(404, "no such fault")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass                    # resets and closes are the point here


def main():
    server = Server(("127.0.0.1", 0), Handler)
    server.plain_port = server.server_address[1]
    ports = [server.server_address[1]]
    if len(sys.argv) == 4:
        tls_server = Server(("127.0.0.1", 0), Handler)
        tls_server.plain_port = server.plain_port
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        tls_server.socket = context.wrap_socket(tls_server.socket, server_side=True)
        ports.append(tls_server.server_address[1])
        threading.Thread(target=tls_server.serve_forever, daemon=True).start()
    port_file = sys.argv[1]
    with open(port_file + ".tmp", "w") as f:
        f.write(" ".join(str(p) for p in ports) + "\n")
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
