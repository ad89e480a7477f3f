"""A loopback fake of the AWS credential services, for Tests/MountTests/test_credentials.py.

One HTTP server on 127.0.0.1 and a free port, in threads of the test process, plays:
  IMDSv2          PUT /latest/api/token (needs X-aws-ec2-metadata-token-ttl-seconds; the token lives that long),
                  GET /latest/meta-data/iam/security-credentials/[ROLE] (needs a live token, else 401)
  container       GET /container/credentials (needs `Authorization: <container_token>`, else 401)
  STS             POST / Action=AssumeRole (SigV4-signed for service "sts" by a key of `source_keys`) and
                  Action=AssumeRoleWithWebIdentity (WebIdentityToken must be `web_token`), XML answers
  process         GET /process/credentials: what the credential_process script (process_script) prints
Every answer issues fresh credentials living `lifetime` seconds and registers them with the S3 fake's
CredentialCheck, so the S3 side knows which credentials are valid. `issued[source]` lists the access key ids
handed out per source ("imds", "container", "assume_role", "web_identity", "process"), in order.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hostile_s3 import CredentialCheck

ROLE = "s3mount-test-role"


class FakeCredentialService:
    def __init__(self, check: CredentialCheck, lifetime: float = 3600):
        self.check = check
        self.lifetime = lifetime
        self.container_token = "container-" + secrets.token_hex(8)
        self.web_token = "jwt-" + secrets.token_hex(8)
        self.source_keys: set[str] = set()
        self.lock = threading.Lock()
        self.issued: dict[str, list[str]] = {}
        self.imds_tokens: dict[str, float] = {}
        self.rejected: list[str] = []  # why requests were refused, for assertions and diagnosis
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeCredentialService:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def count(self, source: str) -> int:
        with self.lock:
            return len(self.issued.get(source, []))

    def keys(self, source: str) -> list[str]:
        with self.lock:
            return list(self.issued.get(source, []))

    def static_source_key(self) -> tuple[str, str]:
        """Keys that never expire, accepted by STS AssumeRole as a source profile's (not valid for S3 itself)."""
        key, secret = "AKIASOURCE" + secrets.token_hex(4).upper(), secrets.token_hex(20)
        self.source_keys.add(key)
        return key, secret

    def issue(self, source: str) -> dict:
        key = "ASIA" + source[:4].upper() + secrets.token_hex(6).upper()
        secret, token = secrets.token_hex(20), "token-" + secrets.token_hex(24)
        expires = time.time() + self.lifetime
        self.check.issue(key, secret, token, expires)
        with self.lock:
            self.issued.setdefault(source, []).append(key)
        stamp = datetime.fromtimestamp(int(expires), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"AccessKeyId": key, "SecretAccessKey": secret, "Token": token, "Expiration": stamp}

    def process_script(self, path: str) -> str:
        """Writes an executable credential_process script that fetches from this service; returns its path."""
        with open(path, "w") as f:
            f.write(f"""#!{sys.executable}
import json, urllib.request
c = json.load(urllib.request.urlopen("{self.url}/process/credentials", timeout=5))
print(json.dumps({{"Version": 1, "AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"],
                  "SessionToken": c["Token"], "Expiration": c["Expiration"]}}))
""")
        os.chmod(path, 0o755)
        return path

    def _refuse(self, why: str) -> None:
        with self.lock:
            self.rejected.append(why)

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def answer(self, status: int, body: str, content_type: str = "application/json") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def refuse(self, status: int, why: str) -> None:
                service._refuse(why)
                self.answer(status, why, "text/plain")

            def do_PUT(self) -> None:
                if self.path != "/latest/api/token":
                    return self.refuse(404, f"PUT {self.path}")
                ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
                if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                    return self.refuse(400, "IMDS token PUT without a valid TTL header")
                token = secrets.token_hex(16)
                with service.lock:
                    service.imds_tokens[token] = time.time() + int(ttl)
                self.answer(200, token, "text/plain")

            def do_GET(self) -> None:
                base = "/latest/meta-data/iam/security-credentials/"
                if self.path.startswith(base):
                    token = self.headers.get("X-aws-ec2-metadata-token") or ""
                    with service.lock:
                        alive = service.imds_tokens.get(token, 0) > time.time()
                    if not alive:
                        return self.refuse(401, "IMDS GET without a live session token")
                    if self.path == base:
                        return self.answer(200, ROLE, "text/plain")
                    if self.path != base + ROLE:
                        return self.refuse(404, f"IMDS role {self.path}")
                    return self.answer(200, json.dumps({"Code": "Success", "Type": "AWS-HMAC",
                                                        **service.issue("imds")}))
                if self.path == "/container/credentials":
                    if self.headers.get("Authorization") != service.container_token:
                        return self.refuse(401, "container GET without the authorization token")
                    return self.answer(200, json.dumps(service.issue("container")))
                if self.path == "/process/credentials":
                    return self.answer(200, json.dumps(service.issue("process")))
                self.refuse(404, f"GET {self.path}")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                action = form.get("Action")
                if action == "AssumeRole":
                    auth = self.headers.get("Authorization") or ""
                    signer = auth.partition("Credential=")[2].split("/")
                    if len(signer) < 5 or signer[0] not in service.source_keys or signer[3] != "sts":
                        return self.refuse(403, "AssumeRole not signed for sts by a source profile's key")
                    source = "assume_role"
                elif action == "AssumeRoleWithWebIdentity":
                    if form.get("WebIdentityToken") != service.web_token:
                        return self.refuse(403, "AssumeRoleWithWebIdentity with the wrong token")
                    source = "web_identity"
                else:
                    return self.refuse(400, f"STS action {action}")
                if not form.get("RoleArn") or not form.get("RoleSessionName"):
                    return self.refuse(400, f"{action} without RoleArn or RoleSessionName")
                c = service.issue(source)
                self.answer(200, f"""<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<{action}Result><Credentials><AccessKeyId>{c["AccessKeyId"]}</AccessKeyId>
<SecretAccessKey>{c["SecretAccessKey"]}</SecretAccessKey><SessionToken>{c["Token"]}</SessionToken>
<Expiration>{c["Expiration"]}</Expiration></Credentials></{action}Result>
<ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></{action}Response>""", "text/xml")

        return Handler
