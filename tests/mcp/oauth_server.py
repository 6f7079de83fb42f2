"""An OAuth-protected MCP server (the official Python SDK, streamable HTTP on 127.0.0.1:PORT)
for tests/mcp_oauth.rs: one process is both the authorization server (metadata, dynamic
client registration, an authorization step that approves at once, tokens with PKCE) and the
protected MCP server (RFC 9728 metadata, bearer tokens). Tokens last TOKEN_TTL seconds as
announced (default 5), but the server only refuses a token that a refresh replaced, so tests
never wait for a clock. GET /record (no token) tells what happened: registrations, codes
exchanged, refreshes, revocations (RFC 7009, at /revoke) and which token the last tool call
brought, and each request that carried `X-OAuth-Test` ("METHOD PATH VALUE"). POST /revoke_all (no token) makes every access token stop working, as a server restart or an administrator would; the
refresh tokens still work. Its tool `patient` reports half its work (progress 1 of 2,
"halfway"), then waits until POST /release (no token).

    python oauth_server.py PORT
"""

import asyncio
import os
import secrets
import sys
import time

import uvicorn
from pydantic import AnyHttpUrl
from starlette.requests import Request
from starlette.responses import JSONResponse

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    RefreshToken,
    construct_redirect_uri,
)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import Context, MCPServer

PORT = int(sys.argv[1])
BASE = f"http://127.0.0.1:{PORT}"
TTL = int(os.environ.get("TOKEN_TTL", "5"))

record = {
    "registered": 0,
    "codes": 0,
    "refreshed": 0,
    "revoked": 0,
    "last_token": None,
    "resources": [],
    "oauth_headers": [],
}


class Provider:
    def __init__(self):
        self.clients = {}
        self.codes = {}
        self.refresh = {}
        self.access = {}

    async def get_client(self, client_id):
        return self.clients.get(client_id)

    async def register_client(self, client_info):
        record["registered"] += 1
        self.clients[client_info.client_id] = client_info

    async def authorize(self, client, params):
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthorizationCode(
            code=code,
            scopes=params.scopes or [],
            expires_at=time.time() + 300,
            client_id=client.client_id,
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
            subject="alice",
        )
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(self, client, code):
        return self.codes.get(code)

    def _issue(self, client_id, scopes, resource, how):
        from mcp.shared.auth import OAuthToken

        access = f"{how}-{secrets.token_hex(8)}"
        refresh = secrets.token_hex(16)
        self.access[access] = AccessToken(
            token=access, client_id=client_id, scopes=scopes, resource=resource, subject="alice"
        )
        self.refresh[refresh] = RefreshToken(
            token=refresh, client_id=client_id, scopes=scopes, resource=resource, subject="alice"
        )
        record["resources"].append(resource)
        return OAuthToken(
            access_token=access, expires_in=TTL, refresh_token=refresh, scope=" ".join(scopes) or None
        )

    async def exchange_authorization_code(self, client, code):
        self.codes.pop(code.code, None)
        record["codes"] += 1
        return self._issue(client.client_id, code.scopes, code.resource, "code")

    async def load_refresh_token(self, client, token):
        return self.refresh.get(token)

    async def exchange_refresh_token(self, client, refresh_token, scopes):
        self.refresh.pop(refresh_token.token, None)
        # The tokens this refresh replaces stop working.
        for k in [k for k, v in self.access.items() if v.client_id == client.client_id]:
            del self.access[k]
        record["refreshed"] += 1
        return self._issue(client.client_id, refresh_token.scopes, refresh_token.resource, "refreshed")

    async def load_access_token(self, token):
        return self.access.get(token)

    async def revoke_token(self, token):
        record["revoked"] += 1
        self.access.pop(token.token, None)
        self.refresh.pop(token.token, None)


provider = Provider()

server = MCPServer(
    "guarded",
    auth_server_provider=provider,
    auth=AuthSettings(
        issuer_url=AnyHttpUrl(BASE),
        resource_server_url=AnyHttpUrl(f"{BASE}/mcp"),
        validate_token_resource=False,
        client_registration_options=ClientRegistrationOptions(enabled=True),
        revocation_options=RevocationOptions(enabled=True),
    ),
)


@server.tool()
def whoami() -> str:
    """Who the token belongs to, and how it was issued."""
    token = get_access_token()
    record["last_token"] = token.token if token else None
    how = token.token.split("-")[0] if token else "nobody"
    return f"alice ({how})"


released = asyncio.Event()


@server.tool()
async def patient(ctx: Context) -> str:
    """Reports half its work, then waits to be released."""
    await ctx.report_progress(1, 2, "halfway")
    await released.wait()
    released.clear()
    return "patience rewarded"


@server.custom_route("/release", methods=["POST"])
async def release(request: Request):
    released.set()
    return JSONResponse({"released": True})


@server.custom_route("/record", methods=["GET"])
async def show_record(request: Request):
    return JSONResponse(record)


@server.custom_route("/revoke_all", methods=["POST"])
async def revoke_all(request: Request):
    provider.access.clear()
    return JSONResponse({"revoked": True})


app = server.streamable_http_app(host="127.0.0.1")


async def recording(scope, receive, send):
    """Records each request that carries `X-OAuth-Test` (a client's `oauth_headers`)."""
    if scope["type"] == "http":
        value = dict(scope["headers"]).get(b"x-oauth-test")
        if value is not None:
            record["oauth_headers"].append(f"{scope['method']} {scope['path']} {value.decode()}")
    await app(scope, receive, send)


uvicorn.run(recording, host="127.0.0.1", port=PORT, log_level="warning")
