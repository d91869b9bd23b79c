#!/usr/bin/env python3
"""A loopback HTTP proxy that injects faults between coffer and moto.

    python3 tests/fault_proxy.py --port P --upstream http://127.0.0.1:M --seed 7 \
        --throttle 0.2 --error 0.05 --drop 0.01 --truncate 0.01 --latency 0.1:40

Each request draws one fault from a seeded generator (in arrival order):

- throttle: the service's own throttling error, in the wire format its SDK parses: EC2's
  `RequestLimitExceeded` (ec2Query, 503), RDS's and STS's `Throttling` (awsQuery, 400),
  DynamoDB's and KMS's `ThrottlingException` (awsJson, 400), EFS's (restJson, 429), S3's
  `SlowDown` (restXml, 503). The request never reaches moto.
- error: a 500 `InternalError`, a 503 `ServiceUnavailable` in the service's format, or a bare
  502 from a gateway. The request never reaches moto.
- drop: the connection closes with no answer, half the time before the request is forwarded
  and half the time after moto carried it out (the caller cannot tell which: the case that
  makes a non-idempotent call twice if it is simply retried).
- truncate: moto carries the request out; the answer's headers promise the whole body, half of
  it is sent, and the connection closes.
- latency (independent of the others): with the given probability, a delay of up to the
  given milliseconds before anything else happens.
- expired credentials (`--expire-after N`): from the N+1th signed request on, every request
  is refused as its service refuses expired temporary credentials: EC2's `RequestExpired`,
  `ExpiredToken` from RDS, STS and S3, DynamoDB's `ExpiredTokenException`.

GET /__coffer_faults/stats answers a JSON tally: requests per service and action, faults
injected per kind and service. The stats path cannot be an S3 bucket (bucket names have no
underscores), so it never shadows a real request.
"""

import argparse
import http.client
import http.server
import json
import random
import re
import sys
import threading
import time
import urllib.parse

STATS_PATH = "/__coffer_faults/stats"

CREDENTIAL = re.compile(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request")
QUERY_SERVICES = {"rds", "sts", "iam", "sns", "sqs", "elasticache", "redshift", "cloudformation"}
JSON_SERVICES = {"dynamodb", "kms", "backup", "secretsmanager", "logs"}


def xml(body):
    return ('<?xml version="1.0" encoding="UTF-8"?>' + body).encode()


def fault_response(service, kind, rng):
    """(status, headers, body) of an injected fault for `service`."""
    if kind == "expired":
        if service == "ec2":
            return 400, {"Content-Type": "text/xml"}, xml(
                "<Response><Errors><Error><Code>RequestExpired</Code>"
                "<Message>Request has expired.</Message></Error></Errors>"
                "<RequestID>fault-proxy</RequestID></Response>")
        if service == "s3":
            return 400, {"Content-Type": "application/xml"}, xml(
                "<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message>"
                "<RequestId>fault-proxy</RequestId></Error>")
        if service in JSON_SERVICES:
            body = {"__type": "com.amazon.coral.service#ExpiredTokenException",
                    "message": "The security token included in the request is expired"}
            return 400, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(body).encode()
        return 400, {"Content-Type": "text/xml"}, xml(
            "<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code>"
            "<Message>The security token included in the request is expired</Message></Error>"
            "<RequestId>fault-proxy</RequestId></ErrorResponse>")
    if kind == "throttle":
        if service == "ec2":
            return 503, {"Content-Type": "text/xml"}, xml(
                "<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
                "<Message>Request limit exceeded.</Message></Error></Errors>"
                "<RequestID>fault-proxy</RequestID></Response>")
        if service == "s3":
            return 503, {"Content-Type": "application/xml"}, xml(
                "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
                "<RequestId>fault-proxy</RequestId></Error>")
        if service in QUERY_SERVICES:
            return 400, {"Content-Type": "text/xml"}, xml(
                "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                "<Message>Rate exceeded</Message></Error>"
                "<RequestId>fault-proxy</RequestId></ErrorResponse>")
        if service == "dynamodb":
            body = {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                    "message": "Rate of requests exceeds the allowed throughput."}
            return 400, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(body).encode()
        if service in JSON_SERVICES:
            body = {"__type": "ThrottlingException", "message": "Rate exceeded"}
            return 400, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(body).encode()
        # restJson (EFS and others)
        return 429, {"Content-Type": "application/json",
                     "x-amzn-ErrorType": "ThrottlingException"}, json.dumps(
            {"ErrorCode": "ThrottlingException", "message": "Rate exceeded"}).encode()
    # a server error
    which = rng.choice(["InternalError", "ServiceUnavailable", "bare502"])
    if which == "bare502":
        return 502, {"Content-Type": "text/html"}, b"<html><body>502 Bad Gateway</body></html>"
    status = 500 if which == "InternalError" else 503
    if service == "ec2":
        return status, {"Content-Type": "text/xml"}, xml(
            f"<Response><Errors><Error><Code>{which}</Code><Message>An internal error has occurred"
            "</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>")
    if service == "s3":
        return status, {"Content-Type": "application/xml"}, xml(
            f"<Error><Code>{which}</Code><Message>We encountered an internal error.</Message>"
            "<RequestId>fault-proxy</RequestId></Error>")
    if service in QUERY_SERVICES:
        code = "InternalFailure" if which == "InternalError" else which
        return status, {"Content-Type": "text/xml"}, xml(
            f"<ErrorResponse><Error><Type>Receiver</Type><Code>{code}</Code>"
            "<Message>internal error</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>")
    code = "InternalServerError" if which == "InternalError" else which
    return status, {"Content-Type": "application/x-amz-json-1.0",
                    "x-amzn-ErrorType": code}, json.dumps(
        {"__type": code, "message": "internal error"}).encode()


class Faults:
    """The seeded plan and the tally, shared by every connection."""

    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.lock = threading.Lock()
        self.rates = [("throttle", args.throttle), ("error", args.error),
                      ("drop", args.drop), ("truncate", args.truncate)]
        prob, _, ms = args.latency.partition(":")
        self.latency = (float(prob or 0), float(ms or 0))
        self.expire_after = args.expire_after
        self.signed = 0
        self.requests = {}
        self.injected = {}

    def draw(self, service, action):
        """The fault for one request, its delay, and a coin for the ways a fault can go."""
        with self.lock:
            key = f"{service} {action}"
            self.requests[key] = self.requests.get(key, 0) + 1
            if service != "unsigned":
                self.signed += 1
            if self.expire_after is not None and self.signed > self.expire_after:
                tally = self.injected.setdefault("expired", {})
                tally[service] = tally.get(service, 0) + 1
                return "expired", 0.0, 0.0
            roll = self.rng.random()
            fault = None
            for kind, rate in self.rates:
                if roll < rate:
                    fault = kind
                    break
                roll -= rate
            delay = 0.0
            if self.rng.random() < self.latency[0]:
                delay = self.rng.random() * self.latency[1] / 1000
                self.injected["latency"] = self.injected.get("latency", 0) + 1
            coin = self.rng.random()
            if fault:
                tally = self.injected.setdefault(fault, {})
                tally[service] = tally.get(service, 0) + 1
            return fault, delay, coin

    def stats(self):
        with self.lock:
            return {"requests": sum(self.requests.values()), "by_action": dict(self.requests),
                    "injected": json.loads(json.dumps(self.injected))}


def service_of(headers):
    m = CREDENTIAL.search(headers.get("Authorization", ""))
    return m.group(1) if m else "unsigned"


def action_of(service, method, path, headers, body):
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    if body and method == "POST" and b"Action=" in body[:4096]:
        form = urllib.parse.parse_qs(body[:4096].decode("latin-1"))
        if "Action" in form:
            return form["Action"][0]
    if service == "s3":
        query = urllib.parse.urlsplit(path).query
        parts = urllib.parse.urlsplit(path).path.strip("/").split("/", 1)
        return f"{method} {'object' if len(parts) > 1 and parts[1] else 'bucket'}" + (
            "?" + query.split("=")[0] if query else "")
    return f"{method} {urllib.parse.urlsplit(path).path}"


def read_body(handler):
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks), True
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get("Content-Length") or 0)), False


def make_handler(faults, upstream):
    host, port = upstream

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, headers, body):
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def forward(self, body, dechunked):
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("connection", "transfer-encoding", "content-length")}
            if body or self.command in ("PUT", "POST") or dechunked:
                headers["Content-Length"] = str(len(body))
            conn = http.client.HTTPConnection(host, port, timeout=300)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                out = {k: v for k, v in r.getheaders()
                       if k.lower() not in ("transfer-encoding", "content-length", "connection")}
                return r.status, out, data
            finally:
                conn.close()

        def handle_any(self):
            body, dechunked = read_body(self)
            if self.path == STATS_PATH:
                self.answer(200, {"Content-Type": "application/json"},
                            json.dumps(faults.stats()).encode())
                return
            service = service_of(self.headers)
            action = action_of(service, self.command, self.path, self.headers, body)
            fault, delay, coin = faults.draw(service, action)
            if delay:
                time.sleep(delay)
            if fault in ("throttle", "error", "expired"):
                self.answer(*fault_response(service, fault, random.Random(coin)))
                return
            if fault == "drop" and coin < 0.5:
                self.close_connection = True
                return
            status, headers, data = self.forward(body, dechunked)
            if fault == "drop":
                self.close_connection = True
                return
            if fault == "truncate" and len(data) > 1:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.answer(status, headers, data)

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = handle_any

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", required=True, help="moto's URL, http://HOST:PORT")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--throttle", type=float, default=0.0)
    p.add_argument("--error", type=float, default=0.0)
    p.add_argument("--drop", type=float, default=0.0)
    p.add_argument("--truncate", type=float, default=0.0)
    p.add_argument("--latency", default="0:0", help="PROBABILITY:MAX_MS")
    p.add_argument("--expire-after", type=int, default=None,
                   help="refuse every signed request after this many as expired")
    args = p.parse_args()
    up = urllib.parse.urlsplit(args.upstream)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", args.port), make_handler(Faults(args), (up.hostname, up.port)))
    server.daemon_threads = True
    print(f"fault proxy on 127.0.0.1:{args.port} -> {args.upstream}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
