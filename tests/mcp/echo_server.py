"""An MCP server (the official Python SDK, streamable HTTP on 127.0.0.1:PORT) for
tests/mcp_http.rs: its tool `request_info` answers with what the HTTP request carrying the
call brought (its `x-` headers, its query and its MCP session), so a test sees what a chat
turn sent. GET /record (not MCP) lists the sessions closed (DELETE /mcp), in order.

    python echo_server.py PORT
"""

import json
import sys

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse

from mcp.server.mcpserver import Context, MCPServer

PORT = int(sys.argv[1])
record = {"closed": []}

server = MCPServer("echo")


@server.tool()
def request_info(ctx: Context) -> str:
    """The x- headers, the query and the session of the HTTP request carrying this call."""
    request = ctx.request_context.request
    info = {k: v for k, v in request.headers.items() if k.startswith("x-")}
    info["query"] = request.url.query
    info["session"] = request.headers.get("mcp-session-id")
    return json.dumps(info, sort_keys=True)


@server.custom_route("/record", methods=["GET"])
async def show_record(request: Request):
    return JSONResponse(record)


app = server.streamable_http_app()


async def recording(scope, receive, send):
    """Notes each session closed, then serves the request."""
    if scope["type"] == "http" and scope["method"] == "DELETE":
        session = dict(scope["headers"]).get(b"mcp-session-id")
        if session:
            record["closed"].append(session.decode())
    await app(scope, receive, send)


uvicorn.run(recording, host="127.0.0.1", port=PORT, log_level="warning")
