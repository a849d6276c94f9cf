// A webhook receiver for tests/cli/webhook.sh: verifies baton's signature,
// fails on request, and reports every request as one line on a FIFO so the
// test can wait for deliveries without sleeping.
//   SECRET      the signing secret
//   PORT        where to listen (0 picks one); the port is printed first
//   REPORT      the FIFO (or file) a line per request goes to:
//               "ok ID TYPE", "fail ID TYPE" or "forged ID TYPE"
//   FAIL_FIRST  answer 500 to this many requests first
//   FAIL_FLAG   while this file exists, answer 503
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');

const secret = process.env.SECRET;
let failFirst = Number(process.env.FAIL_FIRST || 0);
const report = fs.openSync(process.env.REPORT, 'a');

// The check a real receiver makes: the HMAC of "<t>.<body>" under the shared
// secret, compared in constant time, and a time not too far from now.
function verified(header, body) {
  const parts = Object.fromEntries(String(header || '').split(',').map((kv) => kv.split('=', 2)));
  if (!parts.t || !parts.v1) return false;
  if (Math.abs(Date.now() / 1000 - Number(parts.t)) > 300) return false;
  const want = crypto.createHmac('sha256', secret).update(`${parts.t}.`).update(body).digest();
  const got = Buffer.from(parts.v1, 'hex');
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const id = req.headers['baton-webhook-id'];
    const type = req.headers['baton-event'];
    let outcome = 'ok';
    let status = 200;
    if (!verified(req.headers['baton-signature'], body)) [outcome, status] = ['forged', 401];
    else if (failFirst > 0) [outcome, status, failFirst] = ['fail', 500, failFirst - 1];
    else if (process.env.FAIL_FLAG && fs.existsSync(process.env.FAIL_FLAG)) [outcome, status] = ['fail', 503];
    else {
      const envelope = JSON.parse(body);
      if (String(envelope.id) !== id || envelope.type !== type) [outcome, status] = ['mismatch', 400];
    }
    fs.writeSync(report, `${outcome} ${id} ${type}\n`);
    res.writeHead(status, { 'Content-Type': 'text/plain' });
    res.end(outcome);
  });
});
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(server.address().port);
});
process.on('SIGTERM', () => process.exit(0)); // keep-alive connections would hold close() open
