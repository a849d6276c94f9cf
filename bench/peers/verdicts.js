#!/usr/bin/env node
// bench/peers/verdicts.js: adds sales verdicts to a simulated stream, so the
// peer benchmark exercises rejections, cooldowns and suppression.
//
//   node verdicts.js IN.jsonl OUT.jsonl
//
// The simulator sends CRM outcomes but never a "Handoff Rejected". This reads
// the stream and, after about one in three of the actions that tend to open a
// gate (requests, workloads, replies, webinars, pricing pages), schedules a
// "Handoff Rejected" for the same userId 1 to 48 hours later, with a reason
// code picked by a hash of the action's messageId (the contract's six codes
// and one it does not know). Whether a verdict finds a handed-off lead is up
// to the engine reading the stream: most find none and change nothing. The
// output stays in timestamp order; the same input gives the same bytes.
'use strict';

const fs = require('fs');
const readline = require('readline');

const REASONS = ['not_icp', 'wrong_timing', 'no_budget', 'bad_company_size', 'already_customer', 'wrong_person',
  'spam'];
const TRIGGERS = new Set(['Demo Requested', 'Quote Requested', 'Consultation Requested', 'Workload Run',
  'Email Replied', 'Webinar Attended']);
const HOUR = 3600000;

function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// A binary heap of pending verdicts, earliest first (ties by creation order).
const heap = [];
const before = (a, b) => a.at < b.at || (a.at === b.at && a.n < b.n);
function push(x) {
  heap.push(x);
  for (let i = heap.length - 1; i > 0;) {
    const p = (i - 1) >> 1;
    if (!before(heap[i], heap[p])) break;
    [heap[i], heap[p]] = [heap[p], heap[i]];
    i = p;
  }
}
function pop() {
  const top = heap[0], last = heap.pop();
  if (heap.length) {
    heap[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l], heap[m])) m = l;
      if (r < heap.length && before(heap[r], heap[m])) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  }
  return top;
}

async function main(inFile, outFile) {
  const out = fs.createWriteStream(outFile);
  let n = 0, buf = [];
  const write = (s) => {
    buf.push(s);
    if (buf.length >= 4096) { out.write(buf.join('\n') + '\n'); buf = []; }
  };
  const emit = (v) => write(JSON.stringify({
    type: 'track', messageId: `verdict-${v.n}`, timestamp: new Date(v.at).toISOString(), userId: v.userId,
    event: 'Handoff Rejected', properties: { reason: v.reason, source: 'crm' },
  }));
  const rl = readline.createInterface({ input: fs.createReadStream(inFile), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line) continue;
    const ev = JSON.parse(line);
    const at = Date.parse(ev.timestamp);
    while (heap.length && heap[0].at <= at) emit(pop());
    write(line);
    const name = ev.type === 'track' ? ev.event : ev.type === 'page' ? ev.category : null;
    if (!ev.userId || !(TRIGGERS.has(name) || name === 'pricing')) continue;
    const h = fnv1a(String(ev.messageId));
    if (h % 3 !== 0) continue;
    push({ at: at + (1 + ((h >>> 2) % 48)) * HOUR, n: ++n, userId: ev.userId,
      reason: REASONS[(h >>> 8) % REASONS.length] });
  }
  while (heap.length) emit(pop());
  if (buf.length) out.write(buf.join('\n') + '\n');
  out.end();
}

if (process.argv.length !== 4) {
  process.stderr.write('usage: node verdicts.js IN.jsonl OUT.jsonl\n');
  process.exit(2);
}
main(process.argv[2], process.argv[3]).catch(err => { process.stderr.write(`${err.stack}\n`); process.exit(1); });
