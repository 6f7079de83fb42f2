"""An MCP server over a websocket, for tests/mcp_transports.rs: no MCP SDK serves websockets,
so this bridges one to a real MCP server over stdio.

Each websocket (subprotocol "mcp") gets its own child, started from the command line given
after the options; every text frame goes to the child's stdin as one line, every line the
child writes goes back as one text frame. Prints the port it listens on (127.0.0.1, a free
port) as its first line of output once it is listening.

    python ws_bridge.py -- python -m mcp_server_time
"""

import asyncio
import sys

from websockets.asyncio.server import serve


async def bridge(ws, command):
    child = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=64 * 1024 * 1024,
    )

    async def to_child():
        async for frame in ws:
            text = frame if isinstance(frame, str) else frame.decode()
            child.stdin.write(text.encode() + b"\n")
            await child.stdin.drain()

    async def from_child():
        while line := await child.stdout.readline():
            await ws.send(line.decode().rstrip("\n"))

    try:
        done, pending = await asyncio.wait(
            [asyncio.create_task(to_child()), asyncio.create_task(from_child())],
            return_when=asyncio.FIRST_COMPLETED,
        )
        for task in pending:
            task.cancel()
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()


async def main():
    command = sys.argv[sys.argv.index("--") + 1 :]
    async with serve(
        lambda ws: bridge(ws, command),
        "127.0.0.1",
        0,
        subprotocols=["mcp"],
        max_size=None,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await server.serve_forever()


asyncio.run(main())
