"""A small S3 server that can be told to misbehave, for Tests/MountTests/test_hostile_server.py.

It answers path-style ListObjectsV2 (delimiter, continuation tokens, encoding-type=url), HeadObject and GetObject
(Range, If-Match) for one bucket held in memory, on 127.0.0.1 and a free port, from threads of the test process.
Keys are bytes, so a key that is not UTF-8 can be stored. Signatures are not checked unless `credentials` is a
CredentialCheck (then every request must carry a SigV4 signature by credentials it issued and that have not
expired; see CredentialCheck). What it can be told:

  bad_dates            keys whose LastModified in a listing is an impossible date
  repeat_token         prefixes whose listing hands out the same continuation token forever
  fault(key, kind, n)  the next n GETs of key (None: all) answer wrongly, `kind` one of GET_FAULTS
  hold_gets            GETs wait (before any byte) until released; `gets_held` counts those waiting
  flat                 prefixes holding that many made-up 1-byte keys (prefix + "k0000000"…), listed without
                       being stored, so a directory of a million names costs no memory here
  no_etag              keys answered without an ETag anywhere (LIST, HEAD, GET); If-Match on them fails (412)
  list_log             (time.monotonic() when sent, prefix, max-keys) of each LIST answer
  list_delay           seconds each LIST waits before it is answered; `lists_at_once` is the most LISTs that were
                       being answered at the same time
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GET_FAULTS = {
    "shift": "206 whose Content-Range (and bytes) start 4 KiB from where the Range asked",
    "no_content_range": "206 without Content-Range, holding bytes from 4 KiB further on",
    "partial_200": "200 holding only the range asked for, as if it were the whole object",
    "small_total": "206 whose Content-Range total is smaller than the range's start",
    "absurd_numbers": "206 whose Content-Range numbers overflow 64 bits",
}

LAST_MODIFIED = "2024-01-02T03:04:05.000Z"
LAST_MODIFIED_HTTP = "Tue, 02 Jan 2024 03:04:05 GMT"
BAD_DATE = "2024-13-45T99:99:99.000Z"


class CredentialCheck:
    """The credentials an S3 fake accepts: (access key id, secret, session token, expiry) issued by a fake
    credential service (fake_credentials.py), or by the test. A request is verified as S3 would: an unknown access
    key or a session token that does not belong to it is 403 InvalidAccessKeyId, a bad SigV4 signature 403
    SignatureDoesNotMatch, credentials past their expiry (or expired early with `expire`) 400 ExpiredToken.
    `seen` records (access key id, the code answered or "OK") for every request, in order."""

    def __init__(self):
        self.lock = threading.Lock()
        self.issued: dict[str, tuple[str, str | None, float | None]] = {}
        self.revoked: set[str] = set()
        self.seen: list[tuple[str, str]] = []

    def issue(self, access_key: str, secret: str, token: str | None, expires_at: float | None) -> None:
        with self.lock:
            self.issued[access_key] = (secret, token, expires_at)

    def expire(self, access_key: str) -> None:
        """From now on requests signed by access_key are answered ExpiredToken, whatever its expiry said."""
        with self.lock:
            self.revoked.add(access_key)

    def accepted_keys(self) -> list[str]:
        """Access key ids of the requests that passed, in order, without repeats."""
        with self.lock:
            out: list[str] = []
            for key, outcome in self.seen:
                if outcome == "OK" and key not in out:
                    out.append(key)
            return out

    def outcomes(self, access_key: str) -> list[str]:
        with self.lock:
            return [outcome for key, outcome in self.seen if key == access_key]

    def verify(self, method: str, raw_path: str, headers) -> tuple[int, str] | None:
        """None when the request is signed by valid credentials; else the (status, code) to answer."""
        auth = headers.get("Authorization") or ""
        fields = dict(part.strip().split("=", 1) for part in auth.removeprefix("AWS4-HMAC-SHA256 ").split(",")
                      if "=" in part)
        credential = fields.get("Credential", "").split("/")
        key = credential[0] if credential else ""
        with self.lock:
            entry = self.issued.get(key)
            revoked = key in self.revoked
        outcome = self._judge(entry, revoked, method, raw_path, headers, fields, credential)
        with self.lock:
            self.seen.append((key, outcome[1] if outcome else "OK"))
        return outcome

    @staticmethod
    def _judge(entry, revoked, method, raw_path, headers, fields, credential) -> tuple[int, str] | None:
        if entry is None or len(credential) != 5 or "SignedHeaders" not in fields:
            return 403, "InvalidAccessKeyId"
        secret, token, expires_at = entry
        if headers.get("x-amz-security-token") != token:
            return 403, "InvalidAccessKeyId"
        if revoked or (expires_at is not None and time.time() >= expires_at):
            return 400, "ExpiredToken"
        path, _, query = raw_path.partition("?")
        pairs = sorted((urllib.parse.quote(urllib.parse.unquote(n), safe="-_.~"),
                        urllib.parse.quote(urllib.parse.unquote(v), safe="-_.~"))
                       for n, _, v in (p.partition("=") for p in query.split("&") if p))
        signed = fields["SignedHeaders"].split(";")
        canonical = "\n".join([
            method, path, "&".join(f"{n}={v}" for n, v in pairs),
            "".join(f"{h}:{' '.join((headers.get(h) or '').split())}\n" for h in signed),
            ";".join(signed), headers.get("x-amz-content-sha256") or "",
        ])
        day, region, service = credential[1], credential[2], credential[3]
        to_sign = "\n".join(["AWS4-HMAC-SHA256", headers.get("x-amz-date") or "", "/".join(credential[1:]),
                             hashlib.sha256(canonical.encode()).hexdigest()])
        signing_key = ("AWS4" + secret).encode()
        for part in (day, region, service, "aws4_request"):
            signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields.get("Signature", "")):
            return 403, "SignatureDoesNotMatch"
        return None


class HostileS3:
    def __init__(self, bucket: str = "hostile", credentials: CredentialCheck | None = None):
        self.bucket = bucket
        self.credentials = credentials
        self.objects: dict[bytes, bytes] = {}
        self.bad_dates: set[bytes] = set()
        self.repeat_token: set[bytes] = set()
        self.faults: dict[bytes, list] = {}  # key -> [kind, remaining or None]
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.hold_gets = False
        self.gets_held = 0
        self.release = threading.Event()
        self.list_requests = 0
        self.flat: dict[bytes, int] = {}
        self.no_etag: set[bytes] = set()
        self.if_match_seen: list[str] = []
        self.list_log: list[tuple[float, str, int]] = []
        self.list_delay = 0.0
        self.lists_in_flight = 0
        self.lists_at_once = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # clients reset connections on purpose
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> HostileS3:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def put(self, key: str | bytes, data: bytes) -> None:
        self.objects[key.encode() if isinstance(key, str) else key] = data

    def fault(self, key: str, kind: str, count: int | None) -> None:
        assert kind in GET_FAULTS, kind
        self.faults[key.encode()] = [kind, count]

    def wait_for_held_gets(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.gets_held >= count, timeout)

    # ------------------------------------------------------------------------------------------------------------

    def take_fault(self, key: bytes) -> str | None:
        with self.lock:
            entry = self.faults.get(key)
            if not entry or entry[1] == 0:
                return None
            if entry[1] is not None:
                entry[1] -= 1
            return entry[0]

    def list_page(self, query: dict[str, str]) -> bytes:
        with self.lock:
            self.list_requests += 1
        prefix = query.get("prefix", "").encode()
        if prefix in self.flat:
            return self.flat_page(prefix, self.flat[prefix], query.get("continuation-token"))
        if prefix not in self.objects and self.data(prefix) is not None:  # a lookup's LIST of one made-up key
            return self.flat_page(prefix, 1, None, only=prefix)
        delimiter = query.get("delimiter", "").encode()
        max_keys = max(1, min(1000, int(query.get("max-keys", "1000"))))
        token = query.get("continuation-token")
        marker = bytes.fromhex(token[1:]) if token and token != "loop" else None
        marker_is_prefix = bool(token) and token[0] == "p"
        keys, prefixes, last, truncated = [], [], None, False
        for key in sorted(k for k in self.objects if k.startswith(prefix)):
            if marker is not None and (key <= marker or (marker_is_prefix and key.startswith(marker))):
                continue
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            if cut >= 0:
                common = key[: cut + len(delimiter)]
                if prefixes and prefixes[-1] == common:
                    continue
                if len(keys) + len(prefixes) == max_keys:
                    truncated = True
                    break
                prefixes.append(common)
                last = "p" + common.hex()
                continue
            if len(keys) + len(prefixes) == max_keys:
                truncated = True
                break
            keys.append(key)
            last = "k" + key.hex()
        if prefix in self.repeat_token:
            truncated, last = True, "loop"

        def enc(b: bytes) -> str:
            return urllib.parse.quote(b, safe="/")

        parts = [f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>{self.bucket}</Name>'
                 f"<Prefix>{enc(prefix)}</Prefix><EncodingType>url</EncodingType><KeyCount>{len(keys)}</KeyCount>"
                 f"<MaxKeys>{max_keys}</MaxKeys><IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"]
        if truncated:
            parts.append(f"<NextContinuationToken>{last}</NextContinuationToken>")
        for key in keys:
            data = self.objects[key]
            date = BAD_DATE if key in self.bad_dates else LAST_MODIFIED
            parts.append(f"<Contents><Key>{enc(key)}</Key><LastModified>{date}</LastModified>"
                         + ("" if key in self.no_etag else f"<ETag>{etag(data)}</ETag>")
                         + f"<Size>{len(data)}</Size></Contents>")
        for common in prefixes:
            parts.append(f"<CommonPrefixes><Prefix>{enc(common)}</Prefix></CommonPrefixes>")
        parts.append("</ListBucketResult>")
        return "".join(parts).encode()

    def data(self, key: bytes | None) -> bytes | None:
        """The object at key: a stored one, or one of the made-up keys of a flat prefix (b"x")."""
        if key is None:
            return None
        if key in self.objects:
            return self.objects[key]
        for prefix, count in self.flat.items():
            rest = key[len(prefix):]
            if key.startswith(prefix) and len(rest) == 8 and rest[:1] == b"k" and rest[1:].isdigit():
                return b"x" if int(rest[1:]) < count else None
        return None

    def flat_page(self, prefix: bytes, count: int, token: str | None, only: bytes | None = None) -> bytes:
        """A page of a flat prefix's made-up keys; with `only`, the page listing just that one key."""
        start = int(token) if token else 0
        end = min(count, start + 1000)
        name = prefix.decode()
        if only is not None:
            tag = etag(b"x").replace('"', "&quot;")
            return (f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>{self.bucket}</Name>'
                    f"<Prefix>{name}</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys>"
                    f"<IsTruncated>false</IsTruncated><Contents><Key>{only.decode()}</Key>"
                    f"<LastModified>{LAST_MODIFIED}</LastModified><ETag>{tag}</ETag><Size>1</Size></Contents>"
                    "</ListBucketResult>").encode()
        parts = [f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>{self.bucket}</Name>'
                 f"<Prefix>{name}</Prefix><KeyCount>{end - start}</KeyCount><MaxKeys>1000</MaxKeys>"
                 f"<IsTruncated>{'true' if end < count else 'false'}</IsTruncated>"]
        if end < count:
            parts.append(f"<NextContinuationToken>{end}</NextContinuationToken>")
        tag = etag(b"x").replace('"', "&quot;")
        parts += [f"<Contents><Key>{name}k{i:07d}</Key><LastModified>{LAST_MODIFIED}</LastModified>"
                  f"<ETag>{tag}</ETag><Size>1</Size></Contents>" for i in range(start, end)]
        parts.append("</ListBucketResult>")
        return "".join(parts).encode()

    def _handler(self):
        s3 = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def send(self, status: int, headers: dict[str, str], body: bytes = b"", head: bool = False) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    with contextlib.suppress(OSError):
                        self.wfile.write(body)

            def target(self) -> tuple[bytes | None, dict[str, str]]:
                path, _, query = self.path.partition("?")
                parts = path.lstrip("/").split("/", 1)
                key = urllib.parse.unquote_to_bytes(parts[1]) if len(parts) > 1 and parts[1] else None
                return key, dict(urllib.parse.parse_qsl(query, keep_blank_values=True))

            def not_found(self, head: bool) -> None:
                self.send(404, {"Content-Type": "application/xml"},
                          b"<Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>", head)

            def refused(self, head: bool) -> bool:
                """Answers (and returns True) when a credential check is on and the request fails it."""
                if s3.credentials is None:
                    return False
                verdict = s3.credentials.verify(self.command, self.path, self.headers)
                if verdict is None:
                    return False
                status, code = verdict
                self.send(status, {"Content-Type": "application/xml"},
                          f"<Error><Code>{code}</Code><Message>{code}</Message></Error>".encode(), head)
                return True

            def do_HEAD(self) -> None:
                if self.refused(head=True):
                    return
                key, _ = self.target()
                data = s3.data(key)
                if data is None:
                    return self.not_found(head=True)
                tag = {} if key in s3.no_etag else {"ETag": etag(data)}
                self.send(200, {"Content-Length": str(len(data)), **tag, "Last-Modified": LAST_MODIFIED_HTTP},
                          head=True)

            def do_GET(self) -> None:
                if self.refused(head=False):
                    return
                key, query = self.target()
                if key is None:
                    if s3.list_delay:
                        with s3.lock:
                            s3.lists_in_flight += 1
                            s3.lists_at_once = max(s3.lists_at_once, s3.lists_in_flight)
                        time.sleep(s3.list_delay)
                        with s3.lock:
                            s3.lists_in_flight -= 1
                    self.send(200, {"Content-Type": "application/xml"}, s3.list_page(query))
                    s3.list_log.append((time.monotonic(), query.get("prefix", ""), int(query.get("max-keys", "1000"))))
                    return
                data = s3.data(key)
                if data is None:
                    return self.not_found(head=False)
                if key in s3.no_etag and self.headers.get("If-Match") is not None:
                    s3.if_match_seen.append(self.headers["If-Match"])
                    return self.send(412, {}, b"<Error><Code>PreconditionFailed</Code></Error>")
                if self.headers.get("If-Match") not in (None, etag(data)):
                    return self.send(412, {}, b"<Error><Code>PreconditionFailed</Code></Error>")
                if s3.hold_gets:
                    with s3.changed:
                        s3.gets_held += 1
                        s3.changed.notify_all()
                    s3.release.wait(120)
                first, last = 0, len(data) - 1
                ranged = self.headers.get("Range")
                if ranged:
                    low, _, high = ranged.removeprefix("bytes=").partition("-")
                    first, last = int(low), min(int(high) if high else last, len(data) - 1)
                self.answer(key, data, first, last, bool(ranged), s3.take_fault(key))

            def answer(self, key: bytes, data: bytes, first: int, last: int, ranged: bool, fault: str | None) -> None:
                size, count = len(data), last - first + 1
                tag = {"Last-Modified": LAST_MODIFIED_HTTP, **({} if key in s3.no_etag else {"ETag": etag(data)})}
                shifted = first + 4096 if first + 4096 + count <= size else first - 4096
                if fault == "shift":
                    self.send(206, {**tag, "Content-Range": f"bytes {shifted}-{shifted + count - 1}/{size}"},
                              data[shifted:shifted + count])
                elif fault == "no_content_range":
                    self.send(206, tag, data[shifted:shifted + count])
                elif fault == "partial_200":
                    self.send(200, tag, data[first:last + 1])
                elif fault == "small_total":
                    self.send(206, {**tag, "Content-Range": f"bytes {first}-{last}/1"}, data[first:last + 1])
                elif fault == "absurd_numbers":
                    self.send(206, {**tag, "Content-Range": f"bytes {first}-99999999999999999999999/*"},
                              data[shifted:shifted + count])
                elif ranged:
                    self.send(206, {**tag, "Content-Range": f"bytes {first}-{last}/{size}"}, data[first:last + 1])
                else:
                    self.send(200, tag, data)

        return Handler


def etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'
