"""An independent RFC 8628 authorization server: authlib's DeviceCodeGrant and
DeviceAuthorizationEndpoint under Flask, on 127.0.0.1 (a port of its choosing, printed as the
first stdout line). Nobody here wrote the grant logic; this file only supplies authlib's storage
hooks and a test control surface standing in for the user's browser.

Usage: authlib_device_server.py ADVERTISED_INTERVAL ENFORCED_INTERVAL EXPIRES_IN
  ADVERTISED_INTERVAL  the `interval` the device authorization reply names
  ENFORCED_INTERVAL    polls closer than this get `slow_down` (an IdP stricter than it said)
  EXPIRES_IN           device code lifetime, seconds

Test control (the user's side): POST /test/approve?user_code=…, POST /test/deny?user_code=…,
GET /test/polls (every token request: time, device code, outcome).
"""
import os
import secrets
import sys
import time

os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # plain http on 127.0.0.1 only

from flask import Flask, jsonify, request
from werkzeug.serving import make_server
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc8628 import (DeviceAuthorizationEndpoint, DeviceCodeGrant,
                                    DeviceCredentialDict)

ADVERTISED, ENFORCED, EXPIRES = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
CLIENT_ID = "qrlogin-test-device"

credentials = {}   # device_code -> DeviceCredentialDict
grants = {}        # user_code -> (user, approved)
last_poll = {}     # device_code -> time
tokens = {}        # access_token -> user
polls = []         # what the client did


class Client(ClientMixin):
    def get_client_id(self):
        return CLIENT_ID

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return scope

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return False

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "none"

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type in (DeviceCodeGrant.GRANT_TYPE, "refresh_token")


class Endpoint(DeviceAuthorizationEndpoint):
    EXPIRES_IN = EXPIRES
    INTERVAL = ADVERTISED

    def get_verification_uri(self):
        return f"{BASE}/activate"

    def save_device_credential(self, client_id, scope, data):
        credentials[data["device_code"]] = DeviceCredentialDict(
            client_id=client_id, scope=scope, expires_at=time.time() + EXPIRES, **data)


class Grant(DeviceCodeGrant):
    def query_device_credential(self, device_code):
        return credentials.get(device_code)

    def query_user_grant(self, user_code):
        return grants.get(user_code)

    def should_slow_down(self, credential):
        code = credential["device_code"]
        now = time.time()
        early = code in last_poll and now - last_poll[code] < ENFORCED
        last_poll[code] = now
        return early


def save_token(token, req):
    tokens[token["access_token"]] = req.user


app = Flask(__name__)
app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True  # the token set carries a refresh token
server = AuthorizationServer(app, query_client=lambda cid: Client() if cid == CLIENT_ID else None,
                             save_token=save_token)
server.register_grant(Grant)
server.register_endpoint(Endpoint)


@app.get("/.well-known/openid-configuration")
def discovery():
    return jsonify(issuer=BASE, token_endpoint=f"{BASE}/token",
                   device_authorization_endpoint=f"{BASE}/device_authorization",
                   userinfo_endpoint=f"{BASE}/userinfo",
                   grant_types_supported=[DeviceCodeGrant.GRANT_TYPE])


@app.post("/device_authorization")
def device_authorization():
    return server.create_endpoint_response("device_authorization")


@app.post("/token")
def token():
    resp = server.create_token_response()
    polls.append({"t": time.time(), "device_code": request.form.get("device_code"),
                  "status": resp.status_code,
                  "error": (resp.get_json(silent=True) or {}).get("error"),
                  "content_type": request.content_type})
    return resp


@app.get("/userinfo")
def userinfo():
    auth = request.headers.get("Authorization", "")
    user = tokens.get(auth.removeprefix("Bearer ").strip())
    if user is None:
        return jsonify(error="invalid_token"), 401
    return jsonify(sub=user["sub"], name=user["name"], preferred_username=user["username"])


@app.post("/test/approve")
def approve():
    grants[request.args["user_code"]] = (
        {"sub": "u-1", "name": "Dora Device", "username": "dora"}, True)
    return jsonify(ok=True)


@app.post("/test/deny")
def deny():
    grants[request.args["user_code"]] = ({"sub": "u-1"}, False)
    return jsonify(ok=True)


@app.get("/test/polls")
def list_polls():
    return jsonify(polls)


if __name__ == "__main__":
    http = make_server("127.0.0.1", 0, app, threaded=True)
    BASE = f"http://127.0.0.1:{http.server_port}"
    print(BASE, flush=True)
    http.serve_forever()
