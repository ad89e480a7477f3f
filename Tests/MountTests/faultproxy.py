#!/usr/bin/env python3
"""A fault-injecting TCP proxy for the failover tests: 127.0.0.1:LISTEN -> 127.0.0.1:UPSTREAM.

    python3 faultproxy.py LISTEN_PORT UPSTREAM_PORT CONTROL_FILE

The mode is read from CONTROL_FILE (JSON, re-read whenever its mtime changes, checked every 20 ms); a mode change
resets every open connection so that the client's next requests meet the new mode (curl keeps connections alive),
then prints `mode N` (N: the file's "generation") on stdout, so the test knows the new mode is in force.
  {"mode": "pass"}                       relay both ways
  {"mode": "delay", "ms": 50}            relay, holding each chunk from the client (each request) back by ms
  {"mode": "reset"}                      accept, then close with RST
  {"mode": "truncate", "bytes": N}       relay the first N bytes from upstream per connection, then RST
  {"mode": "slowdown"}                   answer every request with HTTP 503 SlowDown, never contact upstream
  {"mode": "hang"}                       accept and read, never answer (a gateway under SIGSTOP)
Killing the proxy (or SIGSTOP) is the other fault it offers.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import sys

SLOWDOWN = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
            b"<Message>Please reduce your request rate.</Message></Error>")
SLOWDOWN_RESPONSE = (b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: "
                     + str(len(SLOWDOWN)).encode() + b"\r\nConnection: keep-alive\r\n\r\n" + SLOWDOWN)


class Proxy:
    def __init__(self, upstream: int, control: str):
        self.upstream = upstream
        self.control = control
        self.mode: dict = {"mode": "pass"}
        self.mtime = None
        self.connections: set[asyncio.Task] = set()

    def read_mode(self) -> bool:
        try:
            mtime = os.stat(self.control).st_mtime_ns
        except FileNotFoundError:
            return False
        if mtime == self.mtime:
            return False
        self.mtime = mtime
        try:
            with open(self.control) as f:
                self.mode = json.load(f)
        except (OSError, ValueError):
            return False
        return True

    async def watch(self) -> None:
        while True:
            if self.read_mode():
                for task in list(self.connections):
                    task.cancel()
                print(f"mode {self.mode.get('generation', 0)}", flush=True)
            await asyncio.sleep(0.02)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self.connections.add(task)
        mode = dict(self.mode)
        try:
            await self.serve(mode, reader, writer)
        except (asyncio.CancelledError, ConnectionError, OSError):
            pass
        finally:
            self.connections.discard(task)
            reset(writer)

    async def serve(self, mode: dict, reader, writer) -> None:
        kind = mode.get("mode", "pass")
        if kind == "reset":
            return
        if kind == "hang":
            while await reader.read(65536):
                pass
            return
        if kind == "slowdown":
            buffered = b""
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                buffered += chunk
                while b"\r\n\r\n" in buffered:
                    _, buffered = buffered.split(b"\r\n\r\n", 1)
                    writer.write(SLOWDOWN_RESPONSE)
                    await writer.drain()
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        try:
            delay = mode.get("ms", 0) / 1000 if kind == "delay" else 0
            limit = mode.get("bytes") if kind == "truncate" else None
            await asyncio.gather(pipe(reader, up_writer, delay, None), pipe(up_reader, writer, 0, limit))
        finally:
            reset(up_writer)


async def pipe(reader, writer, delay: float, limit: int | None) -> None:
    sent = 0
    while True:
        chunk = await reader.read(256 * 1024)
        if not chunk:
            raise ConnectionError("closed")
        if delay:
            await asyncio.sleep(delay)
        if limit is not None:
            chunk = chunk[: max(0, limit - sent)]
        writer.write(chunk)
        sent += len(chunk)
        await writer.drain()
        if limit is not None and sent >= limit:
            raise ConnectionError("truncated")


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST, as a crashed peer's kernel would."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


async def main() -> None:
    listen, upstream, control = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    proxy = Proxy(upstream, control)
    proxy.read_mode()
    proxy.mtime = None  # the watcher acknowledges the first mode too
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", listen, reuse_address=True, backlog=512)
    asyncio.get_running_loop().create_task(proxy.watch())
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
