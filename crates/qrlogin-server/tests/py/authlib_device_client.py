"""A standard RFC 8628 client (authlib's requests OAuth2Session) signing in through qrlogin-server.

Usage: authlib_device_client.py BASE_URL CLIENT_ID
Prints one JSON line with the device authorization (for the test to approve on the phone), then
polls the token endpoint as RFC 8628 says (interval, +5 s on slow_down), refreshes the token set
once, and prints one JSON line with the outcome. Nothing of qrlogin's extensions is used.
"""
import json
import sys
import time

from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.base_client.errors import OAuthError

GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def say(obj):
    print(json.dumps(obj), flush=True)


def main():
    base, client_id = sys.argv[1], sys.argv[2]
    session = OAuth2Session(client_id, scope="openid profile offline_access",
                            token_endpoint_auth_method="none")
    conf = session.get(f"{base}/.well-known/openid-configuration",
                       withhold_token=True).json()
    assert GRANT in conf["grant_types_supported"], conf
    auth = session.post(conf["device_authorization_endpoint"],
                        data={"client_id": client_id,
                              "scope": "openid profile offline_access"},
                        withhold_token=True).json()
    say({"authorization": {k: auth[k] for k in
                           ("user_code", "verification_uri", "verification_uri_complete",
                            "expires_in", "interval")}})
    interval = auth.get("interval", 5)
    deadline = time.time() + auth["expires_in"]
    polls = 0
    while time.time() < deadline:
        time.sleep(interval)
        polls += 1
        try:
            token = session.fetch_token(conf["token_endpoint"], grant_type=GRANT,
                                        device_code=auth["device_code"])
            break
        except OAuthError as e:
            if e.error == "authorization_pending":
                continue
            if e.error == "slow_down":
                interval += 5
                continue
            say({"error": e.error, "polls": polls})
            return 1
    else:
        say({"error": "timed out"})
        return 1
    refreshed = session.refresh_token(conf["token_endpoint"], refresh_token=token["refresh_token"])
    say({"access_token": token["access_token"], "polls": polls,
         "refresh_rotated": refreshed["refresh_token"] != token["refresh_token"],
         "refreshed_access_token": refreshed["access_token"]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
