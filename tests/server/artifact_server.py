#!/usr/bin/env python3
"""Artifact server for ccbake's tests and demo: serves a directory over HTTP on 127.0.0.1,
with Range support, and can misbehave on chosen paths.

  artifact_server.py --root DIR --port-file FILE [--port N] [--max-seconds S] [--rate BPS]
                     [--log FILE] [--fault /PATH=KIND[:ARG]]...

Faults (KIND[:ARG]); a fault with a count applies to that many requests, then the path
is served normally:
  drop[:N]            send the headers and half the body, then close (first N requests, 1)
  status:CODE[:N]     answer CODE (e.g. 503) N times (default 2), then serve normally
  retry-after:S[:N]   answer 429 with "Retry-After: S" N times (default 1)
  notfound            404 always
  wrong-bytes         200 with the correct length but different bytes
  trickle:BPS         send the body at BPS bytes per second
  no-range            ignore Range: always 200 with the whole file
  redirect-loop       302 to the same path, forever
  redirect:URL        302 to URL (e.g. a mirror)
Faults can also be changed while running: GET /_ctl/fault?path=/P&kind=KIND[:ARG],
GET /_ctl/clear. Every request is logged as one JSON line to --log (method, path, range,
status, bytes) when its handler ends; GET /_ctl/idle answers once no other request is being
served (at most 10 s), so a reader of the log sees every request that came before. A path
ending in / serves that folder's index.html (a PEP 503 package index, for pip). The server
stops by itself after --max-seconds (default 300).
"""
import argparse
import json
import os
import re
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = {}
FAULTS_LOCK = threading.Lock()
LOG_LOCK = threading.Lock()
ACTIVE = [0]  # requests being served (control requests aside)
ACTIVE_LOCK = threading.Lock()
ARGS = None


def parse_fault(spec):
    kind, _, arg = spec.partition(":")
    known = {"drop", "status", "retry-after", "notfound", "wrong-bytes", "trickle", "no-range",
             "redirect-loop", "redirect"}
    if kind not in known:
        raise ValueError(f"unknown fault {kind!r}; known: {', '.join(sorted(known))}")
    fault = {"kind": kind, "arg": arg}
    if kind == "drop":
        fault["left"] = int(arg or 1)
    elif kind == "status":
        code, _, n = arg.partition(":")
        fault["code"], fault["left"] = int(code), int(n or 2)
    elif kind == "retry-after":
        secs, _, n = arg.partition(":")
        fault["secs"], fault["left"] = int(secs or 1), int(n or 1)
    elif kind == "trickle":
        fault["bps"] = int(arg or 100)
    return fault


def take_fault(path):
    """The fault to apply to this request, counting down counted faults."""
    with FAULTS_LOCK:
        f = FAULTS.get(path)
        if not f:
            return None
        if "left" in f:
            if f["left"] <= 0:
                return None
            f["left"] -= 1
        return dict(f)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ccbake-test-server"

    def log_message(self, fmt, *args):  # quiet on stderr; requests go to --log
        pass

    def record(self, status, sent, note=""):
        if not ARGS.log:
            return
        entry = {"t": round(time.time(), 3), "method": self.command, "path": self.path,
                 "range": self.headers.get("Range"), "status": status, "bytes": sent}
        if note:
            entry["note"] = note
        with LOG_LOCK, open(ARGS.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def simple(self, code, body=b"", headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.record(code, len(body))

    def control(self, url):
        q = urllib.parse.parse_qs(url.query)
        if url.path == "/_ctl/idle":
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with ACTIVE_LOCK:
                    if ACTIVE[0] == 0:
                        break
                time.sleep(0.02)
            return self.simple(200, b"idle\n")
        if url.path == "/_ctl/clear":
            with FAULTS_LOCK:
                FAULTS.clear()
            return self.simple(200, b"cleared\n")
        if url.path == "/_ctl/fault" and "path" in q and "kind" in q:
            try:
                fault = parse_fault(q["kind"][0])
            except ValueError as e:
                return self.simple(400, (str(e) + "\n").encode())
            with FAULTS_LOCK:
                FAULTS[q["path"][0]] = fault
            return self.simple(200, b"ok\n")
        return self.simple(400, b"usage: /_ctl/fault?path=/P&kind=K or /_ctl/clear\n")

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/_ctl/"):
            return self.control(url)
        with ACTIVE_LOCK:
            ACTIVE[0] += 1
        try:
            self.serve(url)
        finally:
            with ACTIVE_LOCK:
                ACTIVE[0] -= 1

    def serve(self, url):
        fault = take_fault(url.path)
        kind = fault["kind"] if fault else None
        if kind == "notfound":
            return self.simple(404, b"not found\n")
        if kind == "status":
            return self.simple(fault["code"], b"fault\n")
        if kind == "retry-after":
            return self.simple(429, b"slow down\n", {"Retry-After": str(fault["secs"])})
        if kind == "redirect-loop":
            return self.simple(302, b"", {"Location": url.path})
        if kind == "redirect":
            return self.simple(302, b"", {"Location": fault["arg"]})

        local = os.path.realpath(os.path.join(ARGS.root, urllib.parse.unquote(url.path).lstrip("/")))
        if url.path.endswith("/") and os.path.isfile(os.path.join(local, "index.html")):
            local = os.path.join(local, "index.html")  # a folder's index (e.g. a PEP 503 index)
        if not local.startswith(os.path.realpath(ARGS.root) + os.sep) or not os.path.isfile(local):
            return self.simple(404, b"not found\n")
        size = os.path.getsize(local)
        start, end, status = 0, size - 1, 200
        rng = self.headers.get("Range")
        if rng and kind != "no-range":
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
            if not m or int(m.group(1)) >= size:
                return self.simple(416, b"", {"Content-Range": f"bytes */{size}"})
            start = int(m.group(1))
            end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            status = 206
        length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", "text/html" if local.endswith(".html") else "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "none" if kind == "no-range" else "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        if kind == "drop":
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return self.record(status, 0)
        limit = length // 2 if kind == "drop" else length
        bps = fault["bps"] if kind == "trickle" else ARGS.rate
        sent = self.send_body(local, start, limit, bps, kind == "wrong-bytes")
        if kind == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.record(status, sent, kind or "")

    def send_body(self, path, start, length, bps, corrupt):
        sent = 0
        chunk = 64 * 1024 if not bps else max(1, min(64 * 1024, bps // 10))
        t0 = time.monotonic()
        try:
            with open(path, "rb") as f:
                f.seek(start)
                while sent < length:
                    data = f.read(min(chunk, length - sent))
                    if not data:
                        break
                    if corrupt:
                        data = bytes(b ^ 0x5A for b in data)
                    self.wfile.write(data)
                    sent += len(data)
                    if bps:
                        ahead = sent / bps - (time.monotonic() - t0)
                        if ahead > 0:
                            time.sleep(ahead)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        return sent


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root", required=True, help="directory to serve")
    p.add_argument("--port", type=int, default=0, help="port (0: any free one)")
    p.add_argument("--port-file", help="write the chosen port here once listening")
    p.add_argument("--max-seconds", type=float, default=300, help="stop after this long")
    p.add_argument("--rate", type=int, default=0, help="per-connection limit in bytes/s (0: none)")
    p.add_argument("--log", help="append one JSON line per request here")
    p.add_argument("--fault", action="append", default=[], metavar="/PATH=KIND[:ARG]")
    ARGS = p.parse_args()
    for spec in ARGS.fault:
        path, _, kind = spec.partition("=")
        try:
            FAULTS[path] = parse_fault(kind)
        except ValueError as e:
            p.error(str(e))
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    if ARGS.port_file:
        tmp = ARGS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(tmp, ARGS.port_file)
    timer = threading.Timer(ARGS.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
