#!/usr/bin/env python3
"""A WebSocket echo peer built on Python's `websockets` package, for
tests/interop_python.rs: the other end of rfc6455's permessage-deflate
interoperability tests.

    ws_peer.py server DEFLATE [CERT KEY]  listen on 127.0.0.1 (a free port), echo
    ws_peer.py client URL DEFLATE [CA]    connect to URL (loopback only), echo

With CERT and KEY (PEM files), the server speaks TLS (wss://) with that
certificate chain and key; with CA (a PEM file), a wss:// client trusts
that CA alone (Python's ssl module checks the certificate and host name).

DEFLATE is a JSON value saying how this peer negotiates permessage-deflate:

    null        compression off (no extension offered or accepted)
    "default"   websockets' own defaults (`compression="deflate"`)
    {...}       keyword arguments of ClientPerMessageDeflateFactory or
                ServerPerMessageDeflateFactory, e.g.
                {"server_max_window_bits": 10, "client_no_context_takeover": true}

Every message received is sent back as it came (text as text, binary as
binary) until the other end closes. Events go to stdout, one a line,
flushed at once, the event's name first:

    listening PORT                              (server only)
    request-extensions HEADER                   (each connection; "-" if none)
    response-extensions HEADER
    open NAME KEY=VALUE...                      (each extension agreed)
    open none                                   (no extension agreed)
    closed code=C messages=N bytes=B            (C: the other end's close code)
    error TEXT

HEADER is the Sec-WebSocket-Extensions header of the opening handshake's
request or response, as sent. For permessage-deflate, the KEY=VALUE pairs
are what websockets agreed to from its own side: local_* is how it
compresses, remote_* how its peer compresses (no_context_takeover as 0/1,
max_window_bits as 8-15).

Every wait is bounded: a client gives up after LIFETIME seconds, and a
server exits after LIFETIME seconds or when its standard input reaches its
end (the test that started it is gone).
"""

import asyncio
import json
import ssl
import sys

import websockets
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)

LIFETIME = 300  # seconds
MAX_SIZE = 64 << 20


def emit(*words):
    print(" ".join(str(w) for w in words), flush=True)


def compression_args(deflate, factory):
    """Keyword arguments of serve()/connect() for a DEFLATE setting."""
    if deflate is None:
        return {"compression": None}
    if deflate == "default":
        return {"compression": "deflate"}
    return {"compression": None, "extensions": [factory(**deflate)]}


def describe(ws):
    emit("request-extensions", ws.request.headers.get("Sec-WebSocket-Extensions", "-"))
    emit("response-extensions", ws.response.headers.get("Sec-WebSocket-Extensions", "-"))
    if not ws.protocol.extensions:
        emit("open", "none")
    for ext in ws.protocol.extensions:
        if isinstance(ext, PerMessageDeflate):
            emit("open", ext.name,
                 "local_no_context_takeover=%d" % ext.local_no_context_takeover,
                 "remote_no_context_takeover=%d" % ext.remote_no_context_takeover,
                 "local_max_window_bits=%d" % ext.local_max_window_bits,
                 "remote_max_window_bits=%d" % ext.remote_max_window_bits)
        else:
            emit("open", ext.name)


async def echo(ws):
    """Echoes until the other end closes; reports how it ended."""
    describe(ws)
    messages = size = 0
    try:
        async for message in ws:
            messages += 1
            size += len(message)
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass
    rcvd = ws.protocol.close_rcvd  # the close frame the other end sent
    emit("closed", "code=%s" % (rcvd.code if rcvd else "none"),
         "messages=%d" % messages, "bytes=%d" % size)
    return rcvd is not None and rcvd.code == 1000


async def stdin_closed():
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.buffer.read)


async def run_server(deflate, tls=None):
    async def handler(ws):
        try:
            await echo(ws)
        except Exception as e:  # report, keep serving
            emit("error", repr(e))

    context = None
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)

    async with serve(handler, "127.0.0.1", 0, max_size=MAX_SIZE, ping_interval=None,
                     ssl=context,
                     **compression_args(deflate, ServerPerMessageDeflateFactory)) as server:
        port = server.sockets[0].getsockname()[1]
        emit("listening", port)
        try:
            await asyncio.wait_for(stdin_closed(), LIFETIME)
        except asyncio.TimeoutError:
            emit("error", "server lifetime of %d s over" % LIFETIME)
    return 0


async def run_client(url, deflate, ca=None):
    loopback = ("ws://127.", "ws://localhost", "wss://127.", "wss://localhost")
    if not url.startswith(loopback):
        emit("error", "loopback URLs only: %s" % url)
        return 2
    tls = {}
    if ca is not None:
        tls["ssl"] = ssl.create_default_context(cafile=ca)

    async def session():
        async with connect(url, max_size=MAX_SIZE, ping_interval=None, open_timeout=30, **tls,
                           **compression_args(deflate, ClientPerMessageDeflateFactory)) as ws:
            return await echo(ws)

    try:
        ok = await asyncio.wait_for(session(), LIFETIME)
    except Exception as e:
        emit("error", repr(e))
        return 1
    return 0 if ok else 1


def main(argv):
    try:
        if len(argv) in (2, 4) and argv[0] == "server":
            tls = tuple(argv[2:]) or None
            return asyncio.run(run_server(json.loads(argv[1]), tls))
        if len(argv) in (3, 4) and argv[0] == "client":
            ca = argv[3] if len(argv) == 4 else None
            return asyncio.run(run_client(argv[1], json.loads(argv[2]), ca))
    except Exception as e:
        emit("error", repr(e))
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
