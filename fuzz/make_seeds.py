#!/usr/bin/env python3
"""Writes fuzz/seeds/<target>/: the JSON examples of the reference (/work/shared/reference or
the path in $QRLOGIN_REFERENCE), of /work/shared/seeds and of the core's parser tests, plus
hand-made inputs per target. Run once; the output is committed (a fresh clone needs no
reference checkout). Re-running replaces the generated files."""
import base64, hashlib, json, os, re, struct, sys, zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "seeds"
REF = Path(os.environ.get("QRLOGIN_REFERENCE", "/work/shared/reference"))
SEEDS = Path(os.environ.get("QRLOGIN_SEEDS", "/work/shared/seeds"))

def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)

def json_examples():
    found = []
    texts = []
    for p in sorted(REF.glob("*.md")) + sorted(SEEDS.glob("*.txt")):
        texts.append(p.read_text(errors="replace"))
    for block in texts:
        for m in re.finditer(r"```(?:json|js|javascript)?\s*\n(.*?)```", block, re.S):
            found.append(m.group(1))
    tests = (ROOT / "crates/qrlogin-core/src/dialect/tests.rs").read_text()
    found += re.findall(r'r#"(\{.*?\})"#', tests, re.S)
    out = []
    for t in found:
        t = t.strip()
        try:
            json.loads(t)
            out.append(t)
        except Exception:
            if t.startswith("{"):
                out.append(t)  # not strict JSON (comments, ellipses): still a useful seed
    return sorted(set(out))

def jwt(payload):
    b = lambda x: base64.urlsafe_b64encode(json.dumps(x).encode()).rstrip(b"=").decode()
    return f'{b({"alg": "EdDSA"})}.{b(payload)}.c2ln'

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

def tiny_png(w=2, h=2):
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))

def main():
    examples = json_examples()
    for t in ["dialect_generate", "dialect_poll", "dialect_exchange", "dialect_profile"]:
        for e in examples:
            put(t, e)
        put(t, '{"code":200,"data":{"random":"0123456789abcdef","status":1}, "code":500}')
        put(t, '\ufeff{"code":200,"data":{"qrcodeId":"0123456789abcdef","status":1e400}}')
        put(t, b'{"code":200,"message":"\xff\xfe","data":{}}')
    for p in [{"sub": "u1", "exp": 1700000000, "email": "a@b.c"},
              {"data": {"email": None, "id": "5b4d5f37f5bca40001c1206f", "clientId": "x"},
               "iat": 1557967687, "exp": 1559263687},
              {"sub": "u", "exp": 9223372036854775807}, {"exp": -1}, {"sub": ""}]:
        put("jwt_claims", jwt(p))
    put("jwt_claims", "a.b.c")
    put("jwt_claims", "Wed Aug 01 2018 15:59:42 GMT+0800 (CST)")
    put("jwt_claims", "2018-07-16T12:56:03.000Z")
    for v in ["7", " 0 ", "Wed, 21 Oct 2015 07:28:00 GMT", "99999999999999999999",
              "-1", "1e3", "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 1900 00:00:00 GMT"]:
        put("retry_after", v)
    png = tiny_png()
    qr_png = Path.home() / ".cargo/registry/src"
    qr_pngs = sorted(qr_png.glob("*/qrcode-0.14*/src/test_annex_i_qr_as_image.png"))
    for m in [png, b"GIF89a\x01\x00\x01\x00\x80\x00\x00", b"\xff\xd8\xff\xe0\x00\x10JFIF",
              b"RIFF\x00\x00\x00\x00WEBPVP8 ",
              b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>',
              b'<?xml version="1.0"?><svg onload="alert(1)"/>',
              b'<svg><script>alert(1)</script></svg>',
              b'<svg><a href="javascript:alert(1)"><text>x</text></a></svg>',
              b"data:image/png;base64," + base64.b64encode(png),
              b"data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%2F%3E",
              b"data:;base64,!!!!"]:
        put("media", m)
    put("qr_decode", png)
    for p in qr_pngs[:1]:
        put("qr_decode", p.read_bytes())
    config = '[server]\nurl = "https://core.authing.cn"\napp_id = "5e0612a8"\n\n[ui]\nlang = "en"\n'
    put("config_load", config + "\0server.url=http://127.0.0.1:1\nui.lang=zh-CN\0QRLOGIN_SERVER_URL=https://x.example\n")
    put("config_load", "[tips.en]\ntitle = '<b>Scan</b>'\n\0tips.en.title=<script>x</script>\0")
    put("config_load", "not toml [[[\0server.app_secret=s\0")
    put("config_load", "\0kiosk.enabled=true\nserver.dialect=v3\0")
    for h in ["<b>Scan</b> with the <em>app</em>", "<script>alert(1)</script>hi",
              '<span style="color:red" onclick="x()">red</span>', "<!-- c --><br/><img src=x onerror=alert(1)>",
              "<a href=\"javascript:alert(1)\">x</a>", "<<b>>&amp;&lt;", "<svg><style>*{}</style></svg>",
              "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">", "<math><mtext><table><mglyph><style><img src=x>"]:
        put("tips_sanitize", h)
    creds = base64.b64encode(b"app:secret").decode()
    for h in [f"Basic {creds}", "Basic !!!", "basic " + base64.b64encode(b"nocolon").decode(),
              "Bearer eyJ.x.y", "bearer", "qrl_session=abc; qrl_csrf=def; other=1",
              "zh-CN,zh;q=0.9,en;q=0.8", "en;q=abc, *;q=0.1", "Token x y"]:
        put("server_headers", h)
    for q in ["random=abc&wait=30&known=scanned", "wait=%2030&known=PENDING", "wait=18446744073709551616",
              "known=authorized&wait=-1", "wait=1&wait=2"]:
        put("server_long_poll", q)
    put("server_tokens", jwt({"sub": "u1", "exp": 4000000000}))
    put("server_tokens", "a.b.c")
    put("server_tokens", "user with spaces and 中文")
    bodies = [(1, '{}'), (1, '{"scene":"APP_AUTH","params":{"a":1}}'),
              (2, '{"random":"{RANDOM}","ticket":"t"}'), (3, '{"random":"{RANDOM}"}'),
              (4, '{"random":"{RANDOM}","checkCode":"123"}'), (10, '{"type":"MOBILE_APP","requester":{"deviceName":"<b>x</b>"}}'),
              (11, '{"ticket":"x","client_id":"{APP}"}'), (12, '{"qrcodeId":"{QRCODEID}","action":"SCAN"}'),
              (13, '{"qrcodeId":"{QRCODEID}","action":"CONFIRM"}'), (14, '{"account":"fuzz","password":"fuzz-password-1"}'),
              (0, '{"random":"{RANDOM}"}'), (6, '{"ticket":"t"}'),
              (0x80 | 15, "username=fuzz&password=fuzz-password-1"),
              (0x80 | 17, "grant_type=refresh_token&refresh_token=x"), (0x80 | 18, "token=abc"),
              (0x80 | 19, "token=abc&token_type_hint=access_token"), (1, '{"a":1,"a":2}'), (1, '[1e400]')]
    for pick, b in bodies:
        put("server_json_bodies", bytes([pick]) + b.encode())
    fields = ["My <b>App</b>", "alice", "Al<script>x</script>ice", "PC \u202e\"><img src=x>", "linux",
              "qrlogin", "1.0", "127.0.0.1", "wrong </p><p>", "123,456,789", "scan\"id", "csrf'tok"]
    put("approval_page", "\0".join(fields))
    put("approval_page", "\0".join(["", "", "", "", "", "", "", "", "", "", "", ""]))
    reqs = ["GET /healthz", "GET /.well-known/qrlogin", "GET /.well-known/openid-configuration",
            "GET /.well-known/jwks.json",
            "GET /api/v2/qrcode/check?random={RANDOM}", "GET /api/v2/qrcode/check?random={RANDOM}&wait=1&known=pending",
            "GET /api/v3/get-qrcode-status?qrcodeId={QRCODEID}",
            "GET /qrcode/check?qrcodeId={QRCODEID}", "GET /s/{SCAN}", "GET /s/{SCAN}\naccept-language: en\ncookie: qrl_session=x",
            "GET /qrcode/{SCAN}.png", "GET /avatars/u1.png", "GET /oauth/wxapp/qrcode/{APP}?random=0123456789abcdef",
            "POST /oauth/wxapp/confirm/qr\ncontent-type: application/json\n\n{\"random\":\"0123456789abcdef\"}",
            "POST /api/v2/qrcode/gene\nx-authing-app-id: {APP}\ncontent-type: application/json\n\n{}",
            "POST /api/v3/gene-qrcode\nx-authing-app-id: {APP}\ncontent-type: application/json\n\n{\"type\":\"MOBILE_APP\"}",
            "POST /api/v3/signin\ncontent-type: application/json\n\n{\"account\":\"fuzz\",\"password\":\"fuzz-password-1\"}",
            "GET /api/v3/get-profile\nauthorization: Bearer x.y.z",
            "GET /api/v3/get-my-login-history\nauthorization: Bearer x",
            "POST /oidc/token\nauthorization: Basic {BASIC}\ncontent-type: application/x-www-form-urlencoded\n\ngrant_type=refresh_token&refresh_token=abc",
            "POST /oidc/token/introspection\nauthorization: Basic {BASIC}\ncontent-type: application/x-www-form-urlencoded\n\ntoken=abc",
            "DELETE /api/v2/qrcode/check", "OPTIONS /s/assets/phone.js", "GET /s/assets/phone.css",
            "GET /%ff%fe/..%2f..%2fetc/passwd", "PATCH /api/v3/set-qrcode-status\n\n{"]
    for r in reqs:
        put("router", r)

if __name__ == "__main__":
    main()
