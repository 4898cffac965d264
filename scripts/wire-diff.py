#!/usr/bin/env python3
# Wire diff of two qrlogin-server builds: starts each on a fresh data directory (one app, user
# alice), sends the same 76 requests (every generation's errors, a full login per generation,
# refresh, introspection, device flow, rate-limited replies), and compares status, headers (but
# Date and Content-Length) and bodies with the random parts masked (ids, tickets, tokens, times).
# For refactors that must not change a byte on the wire:
#
#   git worktree add /tmp/old <base> && (cd /tmp/old && cargo build -p qrlogin-server)
#   cp /tmp/old/target/debug/qrlogin-server /tmp/qrlogin-server-old; cargo build -p qrlogin-server
#   scripts/wire-diff.py /tmp/qrlogin-server-old target/debug/qrlogin-server

import json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.error, urllib.request

def free_port():
    s = socket.socket(); s.bind(('127.0.0.1', 0)); p = s.getsockname()[1]; s.close(); return p

def start(binary, d):
    shutil.rmtree(d, ignore_errors=True)
    out = subprocess.run([binary, '--data-dir', d, 'app', 'add', '--name', 'Desk', '--json', '--allow-client-exchange'], capture_output=True, text=True, check=True).stdout
    app = json.loads(out)
    subprocess.run([binary, '--data-dir', d, 'user', 'add', '--username', 'alice', '--password-stdin'], capture_output=True, check=True, input=b'pw\n')
    port = free_port()
    p = subprocess.Popen([binary, '--data-dir', d, 'serve', '--listen', f'127.0.0.1:{port}'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz'); break
        except Exception: time.sleep(0.1)
    return p, f'http://127.0.0.1:{port}', app

def req(base, method, path, body=None, headers=None, form=False):
    h = dict(headers or {})
    data = None
    if body is not None:
        if form:
            data = body.encode(); h.setdefault('content-type', 'application/x-www-form-urlencoded')
        elif isinstance(body, str):
            data = body.encode(); h.setdefault('content-type', 'application/json')
        else:
            data = json.dumps(body).encode(); h.setdefault('content-type', 'application/json')
    r = urllib.request.Request(base + path, data=data, method=method, headers=h)
    try:
        resp = urllib.request.urlopen(r)
        status, hdrs, text = resp.status, resp.headers, resp.read().decode()
    except urllib.error.HTTPError as e:
        status, hdrs, text = e.code, e.headers, e.read().decode()
    keep = sorted((k.lower(), v) for k, v in hdrs.items() if k.lower() not in ('date', 'content-length'))
    return status, keep, text

MASKS = [
    (re.compile(r'"ticket":"[^"]+"'), '"ticket":<ticket>'),
    (re.compile(r'"(exp|iat)":\d+'), r'"\1":<n>'),
    (re.compile(r'eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+'), '<jwt>'),
    (re.compile(r'rt_[A-Za-z0-9_-]{20,}'), '<refresh>'),
    (re.compile(r'((?:user_code|userCode)[=":]+)[B-Z]{4}-[B-Z]{4}'), r'\1<user-code>'),
    (re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z'), '<time>'),
    (re.compile(r'127\.0\.0\.1:\d+'), '<host>'),
    (re.compile(r'[A-Za-z0-9]{16,}'), '<id>'),
    (re.compile(r'"expiresIn":\d+'), '"expiresIn":<n>'),
    (re.compile(r'"expires_in":\d+|"expire_in":\d+'), '"exp":<n>'),
    (re.compile(r'Retry-After\', \'\d+|retry-after\', \'\d+'), 'retry-after <n>'),
]
def norm(s):
    s = str(s)
    for rx, rep in MASKS: s = rx.sub(rep, s)
    return s

def script(base, app):
    out = []
    def call(name, *a, **k):
        st, h, t = req(base, *a, **k)
        out.append((name, st, norm(h), norm(t)))
        try: return json.loads(t)
        except Exception: return None
    en = {'x-authing-lang': 'en-US'}
    aid = {'x-authing-app-id': app['appId']}
    call('g2 bad scene', 'GET', '/qrcode/gene?scene=X')
    call('g2 unknown', 'GET', '/qrcode/check?qrcodeId=nope')
    call('g3 bad scene', 'POST', '/api/v2/qrcode/gene', {'scene': 'WXAPP'})
    call('g3 bad json', 'POST', '/api/v2/qrcode/gene', 'not json')
    call('g3 unknown', 'GET', '/api/v2/qrcode/check?random=nope', headers=en)
    call('g3 bad ticket', 'POST', '/api/v2/qrcode/userinfo', {'ticket': 'bad'})
    call('g3 bogus action', 'POST', '/api/v2/qrcode/bogus', {})
    call('g3 confirm unsigned', 'POST', '/api/v2/qrcode/confirm', {'random': 'x'})
    call('g2 bogus action', 'POST', '/oauth/scan-qrcode/bogus', {})
    call('g2 confirm unsigned', 'POST', '/oauth/scan-qrcode/confirm', {})
    call('g4 no type', 'POST', '/api/v3/gene-qrcode', {}, headers=en)
    call('g4 bad type', 'POST', '/api/v3/gene-qrcode', {'type': 'X'})
    call('g4 unknown', 'GET', '/api/v3/get-qrcode-status?qrcodeId=nope')
    call('g4 bad ticket', 'POST', '/api/v3/exchange-tokenset-with-qrcode-ticket', {'ticket': 'x'})
    call('g4 bad action', 'POST', '/api/v3/set-qrcode-status', {'action': 'X'})
    call('g4 change unsigned', 'POST', '/api/v3/change-qrcode-status', {'action': 'SCAN', 'qrcodeId': 'x'})
    call('g4 signin wrong', 'POST', '/api/v3/signin', {'connection': 'PASSWORD', 'passwordPayload': {'username': 'alice', 'password': 'no'}})
    call('g4 signin bad conn', 'POST', '/api/v3/signin', {'connection': 'SMS'}, headers=en)
    call('g4 profile unsigned', 'GET', '/api/v3/get-profile')
    call('g4 history unsigned', 'GET', '/api/v3/get-my-login-history')
    call('g1 unknown', 'POST', '/oauth/wxapp/confirm/qr?random=nope')
    call('g1 no random', 'POST', '/oauth/wxapp/confirm/qr', headers=en)
    call('g1 unknown app', 'GET', '/oauth/wxapp/qrcode/nope')
    call('token bad grant', 'POST', '/oidc/token', 'grant_type=foo', form=True)
    call('token no grant', 'POST', '/oauth/token', '', form=True)
    call('revocation no client', 'POST', '/oidc/token/revocation', 'token=x', form=True)
    call('introspection', 'POST', '/oidc/token/introspection', f'token=x&client_id={app["appId"]}', form=True)
    call('userinfo', 'GET', '/oidc/userinfo')
    call('device no client', 'POST', '/oauth/device_authorization', '', form=True)
    call('device page bad', 'GET', '/device?user_code=bad')
    call('healthz', 'GET', '/healthz')
    call('404', 'GET', '/nope')
    # success flows
    tok = call('g4 signin', 'POST', '/api/v3/signin', {'connection': 'PASSWORD', 'passwordPayload': {'username': 'alice', 'password': 'pw'}})
    bearer = {'authorization': 'Bearer ' + tok['data']['access_token']}
    call('g4 profile', 'GET', '/api/v3/get-profile', headers=bearer)
    call('g4 history', 'GET', '/api/v3/get-my-login-history', headers=bearer)
    for gen in ['g2', 'g3', 'g4', 'g1']:
        if gen == 'g2':
            g = call('g2 gene', 'GET', '/qrcode/gene?scene=APP_AUTH&foo=bar&deviceName=PC'); h = g['data']['qrcodeId']; chk = '/qrcode/check?qrcodeId=' + h
            ph = lambda a: ('/oauth/scan-qrcode/' + a, {'qrcodeId': h})
        elif gen == 'g3':
            g = call('g3 gene', 'POST', '/api/v2/qrcode/gene', {'params': {'a': 1}, 'requester': {'deviceName': 'PC'}}); h = g['data']['random']; chk = '/api/v2/qrcode/check?random=' + h
            ph = lambda a: ('/api/v2/qrcode/' + a, {'random': h})
        elif gen == 'g4':
            g = call('g4 gene', 'POST', '/api/v3/gene-qrcode', {'type': 'MOBILE_APP', 'customData': {'x': 1}}, headers=aid); h = g['data']['qrcodeId']; chk = '/api/v3/get-qrcode-status?qrcodeId=' + h
            ph = None
        else:
            g = call('g1 gene', 'GET', '/oauth/wxapp/qrcode/' + app['appId'] + '?random=abcdefghijkl1234&enableFetchPhone=true'); h = 'abcdefghijkl1234'; chk = None
        if chk: call(gen + ' check pending', 'GET', chk)
        else: call('g1 poll pending', 'POST', '/oauth/wxapp/confirm/qr?random=' + h)
        scan_id = g['data']['scanId']
        if gen in ('g2', 'g3'):
            p, b = ph('scanned'); call(gen + ' scanned', 'POST', p, b, headers=bearer)
            call(gen + ' check scanned', 'GET', chk)
            p, b = ph('confirm'); call(gen + ' confirm', 'POST', p, b, headers=bearer)
        else:
            call(gen + ' set scan', 'POST', '/api/v3/set-qrcode-status', {'action': 'SCAN', 'scanId': scan_id}, headers=bearer)
            call(gen + ' change confirm', 'POST', '/api/v3/change-qrcode-status', {'action': 'CONFIRM', 'scanId': scan_id}, headers=bearer)
        if gen == 'g1':
            call('g1 poll authorized', 'POST', '/oauth/wxapp/confirm/qr?random=' + h)
            call('g1 poll again', 'POST', '/oauth/wxapp/confirm/qr?random=' + h)
            continue
        c = call(gen + ' check authorized', 'GET', chk)
        ticket = c['data'].get('ticket')
        path = {'g2': '/oauth/scan-qrcode/exchangeUserInfoWithTicket', 'g3': '/api/v2/qrcode/userinfo', 'g4': '/api/v3/exchange-tokenset-with-qrcode-ticket'}[gen]
        ex = call(gen + ' exchange', 'POST', path, {'ticket': ticket}, headers=en)
        call(gen + ' exchange again', 'POST', path, {'ticket': ticket})
        if gen == 'g4':
            rt = ex['data']['refresh_token']
            call('refresh', 'POST', '/oidc/token', f'grant_type=refresh_token&refresh_token={rt}&client_id={app["appId"]}', form=True)
            call('introspect access', 'POST', '/oidc/token/introspection', f'token={ex["data"]["access_token"]}&client_id={app["appId"]}&client_secret={app["appSecret"]}', form=True)
            call('userinfo ok', 'GET', '/oidc/userinfo', headers={'authorization': 'Bearer ' + ex['data']['access_token']})
    d = call('device auth', 'POST', '/oauth/device_authorization', f'client_id={app["appId"]}&device_name=TV', form=True)
    call('device token pending', 'POST', '/oidc/token', f'grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code={d["device_code"]}&client_id={app["appId"]}', form=True)
    call('device token slow', 'POST', '/oidc/token', f'grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code={d["device_code"]}&client_id={app["appId"]}', form=True)
    # rate limits: sign-in 10/min, then the 429 envelopes
    for i in range(9):
        req(base, 'POST', '/api/v3/signin', {'connection': 'PASSWORD', 'passwordPayload': {'username': 'bob', 'password': 'x'}})
    call('g4 signin limited', 'POST', '/api/v3/signin', {'connection': 'PASSWORD', 'passwordPayload': {'username': 'bob', 'password': 'x'}})
    for i in range(70):
        st, _, _ = req(base, 'GET', '/qrcode/gene?scene=APP_AUTH')
        if st == 429: break
    call('g2 gene limited', 'GET', '/qrcode/gene?scene=APP_AUTH', headers=en)
    call('g3 gene limited', 'POST', '/api/v2/qrcode/gene', {})
    call('g4 gene limited', 'POST', '/api/v3/gene-qrcode', {'type': 'MOBILE_APP'})
    call('g1 gene limited', 'GET', '/oauth/wxapp/qrcode/' + app['appId'])
    call('device limited', 'POST', '/oauth/device_authorization', f'client_id={app["appId"]}', form=True)
    return out

tmp = tempfile.mkdtemp(prefix='qrlogin-wire-')
results = []
for b, d in [(sys.argv[1], os.path.join(tmp, 'old')), (sys.argv[2], os.path.join(tmp, 'new'))]:
    p, base, app = start(b, d)
    try: results.append(script(base, app))
    finally: p.terminate(); p.wait()
old, new = results
same = 0
for o, n in zip(old, new):
    if o == n: same += 1
    else:
        print('DIFF', o[0]); print('  old', o[1:]); print('  new', n[1:])
shutil.rmtree(tmp, ignore_errors=True)
print(f'{same} of {len(old)} replies identical after masking ids, tokens, times ({len(new)} new)')
sys.exit(0 if same == len(old) == len(new) else 1)
