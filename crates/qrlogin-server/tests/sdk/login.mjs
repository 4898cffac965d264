// Logs in against a qrlogin server with Authing's own SDKs, used as their documentation shows.
// Driven by tests/sdk.rs, which plays the phone:
//   node login.mjs g3 <baseUrl> <appId>               authing-js-sdk 4.x  (client.qrcode.*)
//   node login.mjs g4 <baseUrl> <appId> <appSecret>   authing-node-sdk    (geneQrCode, ...)
//   node login.mjs tokens <baseUrl> <appId> <appSecret|-> <client_secret_post|client_secret_basic|none>
//       authing-node-sdk after a G4 login: getNewAccessTokenByRefreshToken, introspectToken,
//       revokeToken, with every endpoint's auth method set to the one given
//   node login.mjs miniprogram <baseUrl> <appId> <extIdpConnidentifier> <wxLoginCode> <phoneCode> <scanId>
//       authing-node-sdk as a company's own mini-program: signInByMobile
//       (wechat_mini_program_code_and_phone), getProfile, then setQrCodeStatus SCAN and CONFIRM
//       of the desktop QR `scanId` with that token (the mini-program approves the desktop)
// Prints `QR <text to encode>` once the QR exists, then `RESULT <json>` with what the SDK got.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);

const [mode, appHost, appId, appSecret] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const deadline = Date.now() + 30_000;

function say(line) {
  process.stdout.write(line + '\n');
}

async function g3() {
  const { AuthenticationClient } = require('authing-js-sdk');
  const client = new AuthenticationClient({ appId, appHost });
  // Docs: const { url, random } = await authenticationClient.qrcode.geneCode()
  const { url, random, qrContent } = await client.qrcode.geneCode();
  if (!url || !random) throw new Error('geneCode gave no url/random');
  say('QR ' + qrContent);
  while (Date.now() < deadline) {
    // Docs: const { random, status, ticket, userInfo } = await ....checkStatus('RANDOM')
    const { status, ticket, userInfo } = await client.qrcode.checkStatus(random);
    if (status === 1 && !(userInfo && userInfo.nickname)) throw new Error('scanned without nickname');
    if (status === 2) {
      // Docs: const user = await authenticationClient.qrcode.exchangeUserInfo('TICKET')
      const user = await client.qrcode.exchangeUserInfo(ticket);
      return { status, scannedNickname: userInfo.nickname, username: user.username, token: user.token };
    }
    if (status === 3 || status === -1) throw new Error('ended with status ' + status);
    await sleep(300);
  }
  throw new Error('timed out');
}

async function g4() {
  const { AuthenticationClient } = require('authing-node-sdk');
  const client = new AuthenticationClient({
    appId,
    appSecret,
    appHost,
    tokenEndPointAuthMethod: 'client_secret_basic',
  });
  const gene = await client.geneQrCode({ type: 'MOBILE_APP' });
  if (gene.statusCode !== 200) throw new Error('geneQrCode: ' + JSON.stringify(gene));
  say('QR ' + gene.data.qrContent);
  const qrcodeId = gene.data.qrcodeId;
  while (Date.now() < deadline) {
    const res = await client.getQrCodeStatus({ qrcodeId });
    const { status, ticket, briefUserInfo } = res.data;
    if (status === 'AUTHORIZED') {
      const old = await client.checkQrCodeStatus({ qrcodeId });
      if (old.data.status !== 'AUTHORIZED') throw new Error('check-qrcode-status disagrees');
      const tokens = await client.exchangeTokenSetWithQrCodeTicket({ ticket });
      if (tokens.statusCode !== 200) throw new Error('exchange: ' + JSON.stringify(tokens));
      client.setAccessToken(tokens.data.access_token);
      const profile = await client.getProfile({});
      return {
        status,
        scannedNickname: briefUserInfo && briefUserInfo.displayName,
        username: profile.data.username,
        token: tokens.data.access_token,
        expireIn: tokens.data.expire_in,
      };
    }
    if (status === 'CANCELLED' || status === 'EXPIRED') throw new Error('ended with ' + status);
    await sleep(300);
  }
  throw new Error('timed out');
}

// The v5 SDK's error for a non-2xx reply is axios's; keep what the server said.
async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return { status: e.response && e.response.status, body: e.response && e.response.data };
  }
}

async function tokens() {
  const { AuthenticationClient } = require('authing-node-sdk');
  const method = process.argv[6];
  const client = new AuthenticationClient({
    appId,
    appSecret: appSecret === '-' ? undefined : appSecret,
    appHost,
    tokenEndPointAuthMethod: method,
    introspectionEndPointAuthMethod: method,
    revocationEndPointAuthMethod: method,
  });
  const gene = await client.geneQrCode({ type: 'MOBILE_APP' });
  if (gene.statusCode !== 200) throw new Error('geneQrCode: ' + JSON.stringify(gene));
  say('QR ' + gene.data.qrContent);
  let ticket;
  while (Date.now() < deadline && !ticket) {
    const res = await client.getQrCodeStatus({ qrcodeId: gene.data.qrcodeId });
    if (res.data.status === 'AUTHORIZED') ticket = res.data.ticket;
    else await sleep(300);
  }
  if (!ticket) throw new Error('timed out');
  // client_secret_post: the DTO's client_id/client_secret (basic: the SDK sends the header).
  const body = method === 'client_secret_post' ? { ticket, client_id: appId, client_secret: appSecret } : { ticket };
  const first = await client.exchangeTokenSetWithQrCodeTicket(body);
  if (first.statusCode !== 200) throw new Error('exchange: ' + JSON.stringify(first));
  // With an access token set the SDK sends it as `authorization` on every call: the token
  // endpoints must not take that for client authentication.
  client.setAccessToken(first.data.access_token);
  const refreshed = await client.getNewAccessTokenByRefreshToken(first.data.refresh_token);
  const live = await client.introspectToken(refreshed.access_token);
  const liveRefresh = await client.introspectToken(refreshed.refresh_token);
  client.setAccessToken(refreshed.access_token);
  const profileBefore = await client.getProfile({});
  const revoked = await client.revokeToken(refreshed.refresh_token);
  const afterRevoke = await client.introspectToken(refreshed.access_token);
  const profileAfter = await failure(client.getProfile({}));
  // The first refresh token was spent by the refresh: presenting it again is refused.
  const reuse = await failure(client.getNewAccessTokenByRefreshToken(first.data.refresh_token));
  return {
    firstHasRefresh: typeof first.data.refresh_token === 'string',
    rotated: refreshed.refresh_token !== first.data.refresh_token,
    refreshedExpiresIn: refreshed.expires_in,
    live,
    liveRefresh,
    profileBefore: profileBefore.data && profileBefore.data.username,
    revoked,
    afterRevoke,
    profileAfter,
    reuse,
  };
}

async function miniprogram() {
  const { AuthenticationClient } = require('authing-node-sdk');
  const [extIdpConnidentifier, code, phoneCode, scanId] = process.argv.slice(5);
  // A mini-program holds no app secret: a public client.
  const client = new AuthenticationClient({ appId, appHost, tokenEndPointAuthMethod: 'none' });
  const signed = await client.signInByMobile({
    extIdpConnidentifier,
    connection: 'wechat_mini_program_code_and_phone',
    wechatMiniProgramCodeAndPhonePayload: {
      wxLoginInfo: { code },
      wxPhoneInfo: { code: phoneCode },
    },
  });
  if (signed.statusCode !== 200) throw new Error('signInByMobile: ' + JSON.stringify(signed));
  client.setAccessToken(signed.data.access_token);
  const profile = await client.getProfile({});
  // The QR carries the public id; the phone endpoints take it where they take qrcodeId.
  const scan = await client.setQrCodeStatus({ qrcodeId: scanId, action: 'SCAN' });
  const confirm = await client.setQrCodeStatus({ qrcodeId: scanId, action: 'CONFIRM' });
  return {
    statusCode: signed.statusCode,
    hasRefresh: typeof signed.data.refresh_token === 'string',
    username: profile.data.username,
    phone: profile.data.phone,
    scan: scan.statusCode,
    confirm: confirm.statusCode,
  };
}

try {
  const result =
    mode === 'g3' ? await g3() : mode === 'tokens' ? await tokens() : mode === 'miniprogram' ? await miniprogram() : await g4();
  say('RESULT ' + JSON.stringify(result));
  process.exit(0);
} catch (e) {
  const http = e && e.response ? ` (${e.config && e.config.url}: ${JSON.stringify(e.response.data)})` : '';
  say('ERROR ' + http + ' ' + (e && e.stack ? e.stack : JSON.stringify(e)));
  process.exit(1);
}
