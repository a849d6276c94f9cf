#!/usr/bin/env node
// bench/peers/rules.js: the benchmark contract (bench/peers/contract.yaml)
// built the way a JavaScript team would build it: json-rules-engine rules for
// the signals and the gates, per-lead and per-account state in memory, one
// event at a time from JSON Lines.
//
//   node rules.js EVENTS.jsonl [--out HANDOFFS.tsv] [--plain-signals]
//   node rules.js --baton-tsv BATON.json        (baton replay --format json → TSV)
//
// Writes one line per handoff, "lead<TAB>gate<TAB>at_ms<TAB>status", and on
// stderr "events: N", "seconds: S", "events_per_s: R" (the time covers reading,
// parsing and deciding; Node's start-up and module loading are outside it).
// --plain-signals evaluates the signals as plain JavaScript functions and keeps
// json-rules-engine for the gates only.
//
// Semantics follow docs/contract.md, docs/events.md and src/engine/engine.c:
// identity by userId / identify email / anonymousId with anonymous history
// folded in at the first event naming both ids; the account from a group call
// or the first non-free-mail address; hits kept to the second; windows
// (now - w, now]; gates tried in order for identified leads in the first
// stage with an open status; needs-context when pain or impact is missing,
// released when they arrive; rejections with cooldowns, suppression and
// rerouting. History here is unbounded (every hit kept for the retention).
'use strict';

const fs = require('fs');
const readline = require('readline');
const { Engine } = require('json-rules-engine');

const DAY = 86400000;
const SECOND = 1000;

// ---- the contract, as data ---------------------------------------------------------

const ICP_INDUSTRIES = ['software', 'fintech', 'healthtech'];
const SECURITY_ASSETS = ['security-whitepaper', 'soc2-report', 'dpa', 'pen-test-summary'];
const BULK_PRECEDENCE = ['auto_reply', 'bulk', 'junk', 'list'];
const RISK_SUBSTRINGS = ['rollout timing', 'internal approval', 'migration', 'security review', 'procurement'];
const FREE_MAIL = new Set([
  '163.com', 'aol.com', 'gmail.com', 'gmx.de', 'gmx.net', 'googlemail.com', 'hotmail.co.uk', 'hotmail.com',
  'hotmail.de', 'hotmail.fr', 'icloud.com', 'laposte.net', 'libero.it', 'live.com', 'mail.com', 'mail.ru',
  'me.com', 'msn.com', 'orange.fr', 'outlook.com', 'proton.me', 'protonmail.com', 'qq.com', 't-online.de',
  'web.de', 'yahoo.co.uk', 'yahoo.com', 'yahoo.fr', 'yandex.ru', 'zoho.com', '10minutemail.com',
  'dispostable.com', 'getnada.com', 'guerrillamail.com', 'mailinator.com', 'maildrop.cc', 'sharklasers.com',
  'tempmail.com', 'trashmail.com', 'yopmail.com',
  'mail.example', // the contract's identity.also_free_mail
]);
const STAGES = ['nurture', 'development', 'sales'];
const REASONS = {
  not_icp: { then: 0, cooldown: 90 * DAY },
  wrong_timing: { then: 0, cooldown: 30 * DAY },
  no_budget: { then: 0, cooldown: 60 * DAY },
  bad_company_size: { then: 0, cooldown: 180 * DAY },
  already_customer: { then: 'suppress' },
  wrong_person: { then: 'reroute' },
};

const SIGNALS = [
  { name: 'pricing_deep_dive', kind: 'intent', conditions: { all: [
    { fact: 'pageCategory', operator: 'equal', value: 'pricing' },
    { fact: 'pageSeconds', operator: 'greaterThan', value: 90 }] } },
  { name: 'security_download', kind: 'intent', conditions: { all: [
    { fact: 'eventName', operator: 'equal', value: 'Asset Downloaded' },
    { fact: 'asset', operator: 'in', value: SECURITY_ASSETS }] } },
  { name: 'demo_request', kind: 'intent', conditions: { any: [
    { fact: 'eventName', operator: 'in', value: ['Demo Requested', 'Quote Requested', 'Consultation Requested'] }] } },
  { name: 'risk_language', kind: 'intent', conditions: { any: RISK_SUBSTRINGS.map(s => (
    { fact: 'text', operator: 'textContains', value: s })) } },
  { name: 'human_reply', kind: 'reply', conditions: { all: [
    { fact: 'eventName', operator: 'equal', value: 'Email Replied' },
    { fact: 'senderType', operator: 'equal', value: 'human' },
    { not: { any: [
      { fact: 'autoSubmitted', operator: 'presentAndNot', value: 'no' },
      { fact: 'xAutoreply', operator: 'presentAndNot', value: 'no' },
      { fact: 'xAutorespond', operator: 'presentAndNot', value: 'no' },
      { fact: 'precedence', operator: 'in', value: BULK_PRECEDENCE }] } }] } },
  { name: 'ran_workload', kind: 'activation', conditions: { all: [
    { fact: 'eventName', operator: 'equal', value: 'Workload Run' },
    { fact: 'rows', operator: 'greaterThanInclusive', value: 1000 }] } },
  { name: 'webinar', kind: 'engagement', conditions: { all: [
    { fact: 'eventName', operator: 'equal', value: 'Webinar Attended' }] } },
  { name: 'content_download', kind: 'engagement', conditions: { all: [
    { fact: 'eventName', operator: 'equal', value: 'Asset Downloaded' },
    { fact: 'asset', operator: 'notIn', value: SECURITY_ASSETS }] } },
  { name: 'blog_read', kind: 'engagement', conditions: { all: [
    { fact: 'pageCategory', operator: 'equal', value: 'blog' }] } },
  { name: 'docs_read', kind: 'engagement', conditions: { all: [
    { fact: 'pageCategory', operator: 'equal', value: 'docs' }] } },
  { name: 'email_open', kind: 'noise', conditions: { any: [
    { fact: 'eventName', operator: 'in', value: ['Email Opened', 'Email Link Clicked'] }] } },
];
const SIGNAL_INDEX = new Map(SIGNALS.map((s, i) => [s.name, i]));
const KIND_OF = SIGNALS.map(s => s.kind);

// The same signals as plain functions (--plain-signals), over the same facts.
const presentAndNot = (a, b) => a !== undefined && a !== null && a !== b;
const num = v => (typeof v === 'number' ? v : NaN);
const PLAIN_SIGNALS = [
  f => f.pageCategory === 'pricing' && num(f.pageSeconds) > 90,
  f => f.eventName === 'Asset Downloaded' && SECURITY_ASSETS.includes(f.asset),
  f => f.eventName === 'Demo Requested' || f.eventName === 'Quote Requested' || f.eventName === 'Consultation Requested',
  f => typeof f.text === 'string' && RISK_SUBSTRINGS.some(s => f.text.includes(s)),
  f => f.eventName === 'Email Replied' && f.senderType === 'human' &&
    !(presentAndNot(f.autoSubmitted, 'no') || presentAndNot(f.xAutoreply, 'no') ||
      presentAndNot(f.xAutorespond, 'no') || BULK_PRECEDENCE.includes(f.precedence)),
  f => f.eventName === 'Workload Run' && num(f.rows) >= 1000,
  f => f.eventName === 'Webinar Attended',
  f => f.eventName === 'Asset Downloaded' && !SECURITY_ASSETS.includes(f.asset),
  f => f.pageCategory === 'blog',
  f => f.pageCategory === 'docs',
  f => f.eventName === 'Email Opened' || f.eventName === 'Email Link Clicked',
];

const yes = (fact) => ({ fact, operator: 'equal', value: true });
const count = (target, days, scope = 'lead') => ({ fact: 'count', params: { target, window: days * DAY, scope } });
const GATES = [
  { name: 'fast_track', to: 2, conditions: { all: [
    { any: [yes('pricing_deep_dive'), yes('security_download')] }, yes('notCustomer')] } },
  { name: 'human_reply', to: 1, conditions: { all: [yes('human_reply'), yes('notCustomer')] } },
  { name: 'activation', to: 2, conditions: { all: [yes('ran_workload'), yes('notCustomer')] } },
  { name: 'fit_intent', to: 1, conditions: { all: [yes('icp'), yes('notCustomer'),
    { ...count('intent', 14), operator: 'greaterThanInclusive', value: 1 },
    { fact: 'since', params: { target: 'intent' }, operator: 'lessThanInclusive', value: 14 * DAY }] } },
  { name: 'engaged', to: 1, conditions: { all: [yes('icp'), yes('notCustomer'),
    { ...count('engagement', 30), operator: 'greaterThanInclusive', value: 5 },
    { ...count('webinar', 30), operator: 'greaterThanInclusive', value: 1 },
    { ...count('content_download', 30), operator: 'greaterThanInclusive', value: 1 }] } },
  { name: 'buying_committee', to: 1, conditions: { all: [yes('icp'), yes('notCustomer'),
    { fact: 'distinct', params: { target: 'engagement', window: 14 * DAY }, operator: 'greaterThanInclusive', value: 3 },
    { ...count('engagement', 14, 'account'), operator: 'greaterThanInclusive', value: 6 }] } },
  { name: 'closed_won_pattern', to: 1, conditions: { all: [yes('notCustomer'),
    { fact: 'score', operator: 'greaterThanInclusive', value: 0.7 }] } },
];
const GATE_INDEX = new Map(GATES.map((g, i) => [g.name, i]));

// ---- state ---------------------------------------------------------------------------

const OPEN = 'open', NEEDS_CONTEXT = 'needs_context', HANDED_OFF = 'handed_off', ACCEPTED = 'accepted',
  RECYCLED = 'recycled', SUPPRESSED = 'suppressed';

const leadIds = new Map();    // userId, email or anonymousId → lead
const accounts = new Map();   // domain → account
const seen = new Map();       // messageId → time first seen
let cur = null;               // { lead, account, now } while the gates run

function findOrAddLead(key) {
  let l = leadIds.get(key);
  if (l) return [l, false];
  l = { key, anonymous: false, merged: false, account: null, stage: 0, status: OPEN, cooldownUntil: 0,
    pendingGate: -1, pain: null, impact: null, hits: [] };
  leadIds.set(key, l);
  return [l, true];
}

function accountOf(domain) {
  let a = accounts.get(domain);
  if (!a) {
    a = { domain, industry: undefined, employees: undefined, status: undefined, hits: [] };
    accounts.set(domain, a);
  }
  return a;
}

function merge(into, from) {
  for (const h of from.hits) {
    if (!into.hits.some(x => x.t === h.t && x.signal === h.signal)) into.hits.push(h);
  }
  if (!into.pain) into.pain = from.pain;
  if (!into.impact) into.impact = from.impact;
  if (!into.account) into.account = from.account;
  leadIds.set(from.key, into);
  from.merged = true;
  from.hits = [];
}

function identify(ev, email) {
  const uid = str(ev.userId), anon = str(ev.anonymousId);
  let l, created;
  if (uid) {
    [l] = findOrAddLead(uid);
    l.anonymous = false;
    if (anon) {
      const other = leadIds.get(anon);
      if (!other) leadIds.set(anon, l);
      else if (other !== l && !other.merged && other.anonymous) merge(l, other);
    }
  } else if (email && ev.type === 'identify') {
    [l] = findOrAddLead(email);
    l.anonymous = false;
    if (anon) {
      const other = leadIds.get(anon);
      if (!other) leadIds.set(anon, l);
      else if (other !== l && other.anonymous && !other.merged) merge(l, other);
    }
  } else {
    [l, created] = findOrAddLead(anon);
    if (created) l.anonymous = true;
  }
  if (email && uid && !leadIds.has(email)) leadIds.set(email, l);
  return l;
}

function placeInAccount(l, ev, email) {
  let key = null;
  if (ev.type === 'group') {
    key = str(ev.traits && ev.traits.domain) || str(ev.groupId);
  } else if (!l.account && email) {
    const at = email.indexOf('@');
    const d = at >= 0 ? email.slice(at + 1) : '';
    if (d && !FREE_MAIL.has(d)) key = d;
  }
  if (key) l.account = accountOf(key);
}

const str = v => (typeof v === 'string' && v.length ? v : null);
const firstStr = (...vs) => { for (const v of vs) if (typeof v === 'string') return v; return undefined; };

// What the signals read, from one event (docs/events.md, "What baton derives").
function eventFacts(ev) {
  const p = ev.properties || {};
  const h = p.headers || {};
  const isPage = ev.type === 'page';
  return {
    eventName: ev.type === 'track' ? ev.event : ev.name,
    pageCategory: isPage ? firstStr(ev.category, p.category) : undefined,
    pageSeconds: isPage ? p.seconds : undefined,
    asset: p.asset,
    rows: p.rows,
    text: firstStr(p.text, p.body, p.message, p.question, p.comment),
    senderType: typeof p.sender_type === 'string' ? p.sender_type : undefined,
    autoSubmitted: h.auto_submitted,
    xAutoreply: h.x_autoreply,
    xAutorespond: h.x_autorespond,
    precedence: h.precedence,
  };
}

const matches = (signal, target) => signal === target || KIND_OF[signal] === target;
const inWindow = (t, window) => t * SECOND <= cur.now && t * SECOND > cur.now - window;

function makeEngine(rules, stopAtFirst) {
  const e = new Engine([], { allowUndefinedFacts: true });
  e.addOperator('textContains', (a, b) => typeof a === 'string' && a.includes(b));
  e.addOperator('presentAndNot', presentAndNot);
  rules.forEach((r, i) => e.addRule({
    name: r.name, conditions: r.conditions, event: { type: r.name, params: { index: i } },
    priority: stopAtFirst ? rules.length - i : 1,
    onSuccess: stopAtFirst ? () => e.stop() : undefined,
  }));
  return e;
}

function gateEngine() {
  const e = makeEngine(GATES, true);
  const target = t => (SIGNAL_INDEX.has(t) ? SIGNAL_INDEX.get(t) : t);
  e.addFact('count', (params) => {
    const tg = target(params.target);
    const hits = params.scope === 'account' ? (cur.account ? cur.account.hits : []) : cur.lead.hits;
    let n = 0;
    for (const h of hits) if (matches(h.signal, tg) && inWindow(h.t, params.window)) n++;
    return n;
  });
  e.addFact('distinct', (params) => {
    const tg = target(params.target);
    if (!cur.account) return cur.lead.hits.some(h => matches(h.signal, tg) && inWindow(h.t, params.window)) ? 1 : 0;
    const leads = new Set();
    for (const h of cur.account.hits) if (matches(h.signal, tg) && inWindow(h.t, params.window)) leads.add(h.lead);
    return leads.size;
  });
  e.addFact('since', (params) => {
    const tg = target(params.target);
    let best = -1;
    for (const h of cur.lead.hits) if (matches(h.signal, tg) && h.t * SECOND <= cur.now && h.t > best) best = h.t;
    return best < 0 ? undefined : cur.now - best * SECOND;
  });
  return e;
}

// ---- one event -----------------------------------------------------------------------

function hasContext(l) { return !!(l.pain && l.impact); } // require: [pain, impact] on every gate

function outcome(l, ev, at) {
  const name = ev.event;
  if (name === 'Handoff Accepted') {
    if (l.status === HANDED_OFF) l.status = ACCEPTED;
  } else if (name === 'Handoff Rejected') {
    const r = REASONS[ev.properties && ev.properties.reason];
    if (!r || (l.status !== HANDED_OFF && l.status !== ACCEPTED)) return;
    if (r.then === 'suppress') l.status = SUPPRESSED;
    else if (r.then === 'reroute') l.status = HANDED_OFF;
    else {
      l.cooldownUntil = at + r.cooldown;
      l.stage = r.then;
      l.status = r.cooldown ? RECYCLED : OPEN;
    }
  } else if (name === 'Opportunity Created') {
    if (l.stage > 0 && l.stage + 1 < STAGES.length && (l.status === HANDED_OFF || l.status === ACCEPTED)) {
      l.stage++;
      l.status = ACCEPTED;
    }
  }
}

async function run(file, outFile, plainSignals) {
  const signalEngine = makeEngine(SIGNALS, false);
  const gates = gateEngine();
  const out = [];
  let events = 0;
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  const start = process.hrtime.bigint();
  for await (const line of rl) {
    if (!line) continue;
    const ev = JSON.parse(line);
    events++;
    const at = Date.parse(ev.timestamp);
    const mid = str(ev.messageId);
    if (mid) {
      const first = seen.get(mid);
      if (first !== undefined && Math.abs(at - first) <= 7 * DAY) continue;
      seen.set(mid, at);
    }
    const p = ev.properties || {}, tr = ev.traits || {}, ctx = ev.context || {};
    const email = str(firstStr(tr.email, ctx.traits && ctx.traits.email, p.email));
    const l = identify(ev, email);
    placeInAccount(l, ev, email);
    if (ev.type === 'group' && l.account) {
      for (const k of ['industry', 'employees', 'status']) if (tr[k] !== undefined && tr[k] !== null) l.account[k] = tr[k];
    }
    const pain = firstStr(tr.pain, p.pain), impact = firstStr(tr.impact, p.impact);
    if (pain) l.pain = pain;
    if (impact) l.impact = impact;

    // signals
    const facts = eventFacts(ev);
    const now = new Array(SIGNALS.length).fill(false);
    if (plainSignals) {
      for (let s = 0; s < SIGNALS.length; s++) now[s] = PLAIN_SIGNALS[s](facts);
    } else {
      const { events: hits } = await signalEngine.run(facts);
      for (const h of hits) now[h.params.index] = true;
    }
    const t = Math.floor(at / SECOND);
    for (let s = 0; s < SIGNALS.length; s++) {
      if (!now[s]) continue;
      l.hits.push({ t, signal: s });
      if (l.account) l.account.hits.push({ t, signal: s, lead: l });
    }

    // lifecycle, then the gates
    if (l.status === RECYCLED && at >= l.cooldownUntil) l.status = OPEN;
    if (ev.type === 'track') outcome(l, ev, at);
    if (l.status === NEEDS_CONTEXT && hasContext(l)) {
      l.stage = GATES[l.pendingGate].to;
      l.status = HANDED_OFF;
    }
    if (l.anonymous || l.merged || l.stage !== 0 || l.status !== OPEN) continue;
    cur = { lead: l, account: l.account, now: at };
    const a = l.account;
    const gateFacts = {
      icp: !!a && ICP_INDUSTRIES.includes(a.industry) && typeof a.employees === 'number' && a.employees >= 200,
      notCustomer: !(a && a.status === 'customer'),
    };
    SIGNALS.forEach((s, i) => { gateFacts[s.name] = now[i]; });
    const { events: fired } = await gates.run(gateFacts);
    if (!fired.length) continue;
    const g = Math.min(...fired.map(f => f.params.index));
    const ready = hasContext(l);
    out.push(`${l.key}\t${GATES[g].name}\t${at}\t${ready ? HANDED_OFF : NEEDS_CONTEXT}`);
    if (ready) {
      l.stage = GATES[g].to;
      l.status = HANDED_OFF;
    } else {
      l.pendingGate = g;
      l.status = NEEDS_CONTEXT;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  fs.writeFileSync(outFile || '/dev/stdout', out.length ? out.join('\n') + '\n' : '');
  process.stderr.write(`events: ${events}\nhandoffs: ${out.length}\nseconds: ${seconds.toFixed(4)}\n` +
    `events_per_s: ${(events / seconds).toFixed(0)}\n`);
}

// baton replay --format json → the same TSV, for the agreement check.
function batonTsv(file, outFile) {
  const out = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const r = JSON.parse(line);
    if (r.record !== 'handoff') continue;
    out.push(`${r.lead}\t${r.gate}\t${Date.parse(r.at)}\t${r.status}`);
  }
  fs.writeFileSync(outFile || '/dev/stdout', out.length ? out.join('\n') + '\n' : '');
}

function main(argv) {
  let outFile = null, plain = false, baton = null, file = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') outFile = argv[++i];
    else if (argv[i] === '--plain-signals') plain = true;
    else if (argv[i] === '--baton-tsv') baton = argv[++i];
    else file = argv[i];
  }
  if (baton) return batonTsv(baton, outFile);
  if (!file) {
    process.stderr.write('usage: node rules.js EVENTS.jsonl [--out FILE] [--plain-signals]\n' +
      '       node rules.js --baton-tsv BATON.json [--out FILE]\n');
    process.exit(2);
  }
  run(file, outFile, plain).catch(err => { process.stderr.write(`${err.stack}\n`); process.exit(1); });
}

main(process.argv.slice(2));
