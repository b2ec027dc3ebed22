#!/usr/bin/env python3
"""A webhook receiver for the walk-through: prints one line per webhook Sightline sends and answers 204.

    python3 scripts/webhook-receiver.py PORT [SECRET]

With the endpoint's secret it also checks each signature (docs/webhooks.md) and says whether it is valid.
"""
import base64
import hashlib
import hmac
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port = int(sys.argv[1])
secret = sys.argv[2] if len(sys.argv) > 2 else None


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        webhook_id = self.headers.get("webhook-id", "")
        timestamp = self.headers.get("webhook-timestamp", "")
        verdict = ""
        if secret:
            key = base64.b64decode(secret.split("_", 1)[-1]) if secret.startswith("whsec_") else secret.encode()
            expected = base64.b64encode(hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
            sent = [part.split(",", 1)[-1] for part in self.headers.get("webhook-signature", "").split()]
            verdict = " signature valid" if expected in sent else " SIGNATURE INVALID"
        try:
            event = json.loads(body)
            data = event.get("data", {})
            summary = f'{event.get("type")} {data.get("reference") or data.get("id", "")} {data.get("status", "")}'.rstrip()
        except ValueError:
            summary = f"{len(body)} bytes, not JSON"
        print(f"webhook received: {summary}{verdict}", flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
