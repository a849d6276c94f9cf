-- bench/peers/decide.sql: the benchmark contract's handoffs (bench/peers/contract.yaml)
-- as SQL over a table of events, the way a warehouse team would compute them:
-- one pass of json_extract into typed columns, window functions for identity
-- and account state, self-joins (correlated counts over indexed hit tables) for
-- the windows, and a recursive walk of each lead's lifecycle.
--
--   sqlite3 :memory: -cmd '.mode ascii' -cmd ".separator \"$(printf '\037')\" \"\n\"" \
--       -cmd '.import EVENTS.jsonl raw' < decide.sql
--
-- raw(line) holds the JSON Lines, one event per row, rowid in file order.
-- Prints "phase<TAB>seconds" lines for extract, identity, hits, gates and walk,
-- then every handoff as "lead<TAB>gate<TAB>at_ms<TAB>status".
--
-- Assumes what baton simulate guarantees: events in timestamp order, timestamps
-- written YYYY-MM-DDTHH:MM:SS.mmmZ, every identify carrying a userId. The
-- decision logic itself follows docs/contract.md and src/engine/engine.c; see
-- docs/benchmarks.md for how each construct maps to SQL.

CREATE TEMP TABLE phase(name TEXT, at REAL);
INSERT INTO phase VALUES ('start', julianday('now'));

-- ---- 1. events as typed columns -----------------------------------------------------

CREATE TABLE ev AS
SELECT seq, type, mid, ms, uid, anon, name, email, pain, impact, reason,
       gdomain, industry, employees, status,
       -- the signals of the contract, one column each (0/1)
       (pcat = 'pricing' AND typeof(psec) IN ('integer', 'real') AND psec > 90) AS s_pricing,
       (name = 'Asset Downloaded' AND asset IN ('security-whitepaper', 'soc2-report', 'dpa', 'pen-test-summary')) AS s_security,
       (name IN ('Demo Requested', 'Quote Requested', 'Consultation Requested')) AS s_demo,
       (instr(txt, 'rollout timing') OR instr(txt, 'internal approval') OR instr(txt, 'migration')
        OR instr(txt, 'security review') OR instr(txt, 'procurement')) > 0 AS s_risk,
       (name = 'Email Replied' AND stype = 'human'
        AND NOT coalesce(h_as <> 'no' OR h_xa <> 'no' OR h_xr <> 'no'
                         OR h_prec IN ('auto_reply', 'bulk', 'junk', 'list'), 0)) AS s_reply,
       (name = 'Workload Run' AND typeof(rows_) IN ('integer', 'real') AND rows_ >= 1000) AS s_workload,
       (name = 'Webinar Attended') AS s_webinar,
       (name = 'Asset Downloaded' AND NOT coalesce(asset IN ('security-whitepaper', 'soc2-report', 'dpa', 'pen-test-summary'), 0)) AS s_download,
       (pcat = 'blog') AS s_blog,
       (pcat = 'docs') AS s_docs,
       (name IN ('Email Opened', 'Email Link Clicked')) AS s_open
FROM (
  SELECT rowid AS seq,
         json_extract(line, '$.type') AS type,
         json_extract(line, '$.messageId') AS mid,
         CAST(strftime('%s', substr(json_extract(line, '$.timestamp'), 1, 19)) AS INTEGER) * 1000
           + CAST(substr(json_extract(line, '$.timestamp'), 21, 3) AS INTEGER) AS ms,
         nullif(json_extract(line, '$.userId'), '') AS uid,
         nullif(json_extract(line, '$.anonymousId'), '') AS anon,
         CASE json_extract(line, '$.type') WHEN 'track' THEN json_extract(line, '$.event')
              ELSE json_extract(line, '$.name') END AS name,
         CASE json_extract(line, '$.type') WHEN 'page'
              THEN coalesce(json_extract(line, '$.category'), json_extract(line, '$.properties.category')) END AS pcat,
         CASE json_extract(line, '$.type') WHEN 'page' THEN json_extract(line, '$.properties.seconds') END AS psec,
         json_extract(line, '$.properties.asset') AS asset,
         json_extract(line, '$.properties.rows') AS rows_,
         CASE json_extract(line, '$.type') WHEN 'track' THEN
           coalesce(json_extract(line, '$.properties.text'), json_extract(line, '$.properties.body'),
                    json_extract(line, '$.properties.message'), json_extract(line, '$.properties.question'),
                    json_extract(line, '$.properties.comment')) END AS txt,
         json_extract(line, '$.properties.sender_type') AS stype,
         json_extract(line, '$.properties.headers.auto_submitted') AS h_as,
         json_extract(line, '$.properties.headers.x_autoreply') AS h_xa,
         json_extract(line, '$.properties.headers.x_autorespond') AS h_xr,
         json_extract(line, '$.properties.headers.precedence') AS h_prec,
         nullif(coalesce(json_extract(line, '$.traits.email'), json_extract(line, '$.context.traits.email'),
                         json_extract(line, '$.properties.email')), '') AS email,
         nullif(coalesce(json_extract(line, '$.traits.pain'), json_extract(line, '$.properties.pain')), '') AS pain,
         nullif(coalesce(json_extract(line, '$.traits.impact'), json_extract(line, '$.properties.impact')), '') AS impact,
         json_extract(line, '$.properties.reason') AS reason,
         CASE json_extract(line, '$.type') WHEN 'group' THEN
           nullif(coalesce(nullif(json_extract(line, '$.traits.domain'), ''), json_extract(line, '$.groupId')), '') END AS gdomain,
         CASE json_extract(line, '$.type') WHEN 'group' THEN json_extract(line, '$.traits.industry') END AS industry,
         CASE json_extract(line, '$.type') WHEN 'group' THEN json_extract(line, '$.traits.employees') END AS employees,
         CASE json_extract(line, '$.type') WHEN 'group' THEN json_extract(line, '$.traits.status') END AS status
  FROM raw
);
INSERT INTO phase VALUES ('extract', julianday('now'));

-- ---- 2. dedupe and identity ---------------------------------------------------------

-- A messageId seen before is not applied again (the simulator writes none twice).
DELETE FROM ev WHERE seq IN (
  SELECT seq FROM (SELECT seq, row_number() OVER (PARTITION BY mid ORDER BY seq) AS n FROM ev WHERE mid IS NOT NULL)
  WHERE n > 1);

-- The first event naming both a userId and an anonymousId links them for good:
-- the anonymous history folds into that lead, later anonymous events are its.
CREATE TABLE link AS
SELECT anon, uid, seq FROM (
  SELECT anon, uid, seq, row_number() OVER (PARTITION BY anon ORDER BY seq) AS n
  FROM ev WHERE uid IS NOT NULL AND anon IS NOT NULL)
WHERE n = 1;
CREATE UNIQUE INDEX link_anon ON link(anon);

-- Each event's lead: the userId, else the linked lead once linked, else the
-- anonymous lead (known = 0: never handed off).
CREATE TABLE le(seq INTEGER PRIMARY KEY, type, mid, ms, uid, anon, name, email, pain, impact, reason, gdomain,
                industry, employees, status, s_pricing, s_security, s_demo, s_risk, s_reply, s_workload,
                s_webinar, s_download, s_blog, s_docs, s_open, lead, known, link_uid, link_seq);
INSERT INTO le
SELECT e.*,
       CASE WHEN e.uid IS NOT NULL THEN e.uid WHEN k.seq < e.seq THEN k.uid ELSE e.anon END AS lead,
       (e.uid IS NOT NULL OR k.seq < e.seq) AS known,
       k.uid AS link_uid, k.seq AS link_seq
FROM ev e LEFT JOIN link k ON k.anon = e.anon;

-- The account: a group call names it; otherwise the first address at a
-- domain that is not free mail, while the lead has none. Carried forward.
CREATE TABLE firsts AS
  SELECT lead,
         min(CASE WHEN type = 'group' AND gdomain IS NOT NULL THEN seq END) AS first_group,
         min(CASE WHEN email IS NOT NULL AND instr(email, '@') > 0
                   AND substr(email, instr(email, '@') + 1) <> ''
                   AND substr(email, instr(email, '@') + 1) NOT IN (
                     '163.com', 'aol.com', 'gmail.com', 'gmx.de', 'gmx.net', 'googlemail.com', 'hotmail.co.uk',
                     'hotmail.com', 'hotmail.de', 'hotmail.fr', 'icloud.com', 'laposte.net', 'libero.it', 'live.com',
                     'mail.com', 'mail.ru', 'me.com', 'msn.com', 'orange.fr', 'outlook.com', 'proton.me',
                     'protonmail.com', 'qq.com', 't-online.de', 'web.de', 'yahoo.co.uk', 'yahoo.com', 'yahoo.fr',
                     'yandex.ru', 'zoho.com', '10minutemail.com', 'dispostable.com', 'getnada.com',
                     'guerrillamail.com', 'mailinator.com', 'maildrop.cc', 'sharklasers.com', 'tempmail.com',
                     'trashmail.com', 'yopmail.com', 'mail.example')
              THEN seq END) AS first_email
  FROM le GROUP BY lead;
CREATE UNIQUE INDEX firsts_lead ON firsts(lead);
CREATE TABLE acc(seq INTEGER PRIMARY KEY, acct TEXT);
INSERT INTO acc
SELECT seq, max(set_domain) OVER (PARTITION BY lead, run) FROM (
  SELECT seq, lead, set_domain, count(set_domain) OVER (PARTITION BY lead ORDER BY seq) AS run FROM (
    SELECT le.seq, le.lead,
           CASE WHEN le.type = 'group' AND le.gdomain IS NOT NULL THEN le.gdomain
                WHEN le.seq = f.first_email AND (f.first_group IS NULL OR le.seq < f.first_group)
                THEN substr(le.email, instr(le.email, '@') + 1) END AS set_domain
    FROM le JOIN firsts f USING (lead)));

-- Firmographics as of each event: the latest value a group call gave, per field.
CREATE TABLE firm(seq INTEGER PRIMARY KEY, industry, employees, status);
INSERT INTO firm
SELECT seq, max(industry) OVER (PARTITION BY acct, ri), max(employees) OVER (PARTITION BY acct, re),
       max(status) OVER (PARTITION BY acct, rs)
FROM (SELECT a.seq, a.acct, e.industry, e.employees, e.status,
             count(e.industry) OVER w AS ri, count(e.employees) OVER w AS re, count(e.status) OVER w AS rs
      FROM acc a JOIN le e USING (seq) WHERE a.acct IS NOT NULL WINDOW w AS (PARTITION BY a.acct ORDER BY a.seq));

CREATE TABLE lf AS
SELECT e.seq, e.type, e.ms, e.lead, e.known, a.acct, e.name, e.reason, e.pain, e.impact, e.link_uid, e.link_seq,
       e.s_pricing, e.s_security, e.s_demo, e.s_risk, e.s_reply, e.s_workload, e.s_webinar, e.s_download,
       e.s_blog, e.s_docs, e.s_open,
       f.industry AS a_industry, f.employees AS a_employees, f.status AS a_status
FROM le e JOIN acc a USING (seq) LEFT JOIN firm f USING (seq);
INSERT INTO phase VALUES ('identity', julianday('now'));

-- ---- 3. hits ------------------------------------------------------------------------

-- One row per signal hit, kept to the second. kind: 1 intent, 2 reply,
-- 3 activation, 4 engagement, 5 noise. vis: the first decision that sees it
-- (its own event, or for anonymous history the link that folds it in).
CREATE TABLE sig(id INTEGER PRIMARY KEY, kind INTEGER);
INSERT INTO sig VALUES (0, 1), (1, 1), (2, 1), (3, 1), (4, 2), (5, 3), (6, 4), (7, 4), (8, 4), (9, 4), (10, 5);
CREATE TABLE hit0 AS
SELECT f.seq, f.lead, f.known, f.acct, f.link_uid, f.link_seq, f.ms / 1000 AS t, s.id AS sig, s.kind
FROM lf f JOIN sig s ON CASE s.id
  WHEN 0 THEN f.s_pricing WHEN 1 THEN f.s_security WHEN 2 THEN f.s_demo WHEN 3 THEN f.s_risk
  WHEN 4 THEN f.s_reply WHEN 5 THEN f.s_workload WHEN 6 THEN f.s_webinar WHEN 7 THEN f.s_download
  WHEN 8 THEN f.s_blog WHEN 9 THEN f.s_docs WHEN 10 THEN f.s_open END;
CREATE INDEX hit0_lead ON hit0(lead, t, sig);

CREATE TABLE hit AS
SELECT lead, seq AS vis, t, sig, kind FROM hit0 WHERE known
UNION ALL
SELECT h.link_uid, h.link_seq, h.t, h.sig, h.kind FROM hit0 h
WHERE NOT h.known AND h.link_seq > h.seq
  AND NOT EXISTS (SELECT 1 FROM hit0 d WHERE d.lead = h.link_uid AND d.t = h.t AND d.sig = h.sig
                  AND d.known AND d.seq < h.link_seq);
CREATE INDEX hit_kind ON hit(lead, kind, t);
CREATE INDEX hit_sig ON hit(lead, sig, t);

-- Account-wide hits: the hits of events applied while the lead was in the account.
CREATE TABLE ahit AS SELECT acct, seq, t, kind, lead FROM hit0 WHERE acct IS NOT NULL;
CREATE INDEX ahit_kind ON ahit(acct, kind, t);
INSERT INTO phase VALUES ('hits', julianday('now'));

-- ---- 4. the gates, at every event of an identified lead -------------------------------

-- The first gate that holds, whatever the lead's lifecycle (gates do not read it).
-- A window of W ms holds hits with t*1000 in (now - W, now].
CREATE TABLE cand AS
SELECT lead, seq, ms, gate FROM (
  SELECT f.lead, f.seq, f.ms,
    CASE
      WHEN (f.s_pricing OR f.s_security) AND f.nc THEN 0
      WHEN f.s_reply AND f.nc THEN 1
      WHEN f.s_workload AND f.nc THEN 2
      WHEN f.icp AND f.nc
        AND (SELECT count(*) FROM hit h WHERE h.lead = f.lead AND h.kind = 1
               AND h.t > (f.ms - 14 * 86400000) / 1000.0 AND h.t <= f.ms / 1000.0 AND h.vis <= f.seq) >= 1
        AND f.ms - 1000 * (SELECT max(t) FROM hit h WHERE h.lead = f.lead AND h.kind = 1
               AND h.t <= f.ms / 1000.0 AND h.vis <= f.seq) <= 14 * 86400000
        THEN 3
      WHEN f.icp AND f.nc
        AND (SELECT count(*) FROM hit h WHERE h.lead = f.lead AND h.sig = 6
               AND h.t > (f.ms - 30 * 86400000) / 1000.0 AND h.t <= f.ms / 1000.0 AND h.vis <= f.seq) >= 1
        AND (SELECT count(*) FROM hit h WHERE h.lead = f.lead AND h.sig = 7
               AND h.t > (f.ms - 30 * 86400000) / 1000.0 AND h.t <= f.ms / 1000.0 AND h.vis <= f.seq) >= 1
        AND (SELECT count(*) FROM hit h WHERE h.lead = f.lead AND h.kind = 4
               AND h.t > (f.ms - 30 * 86400000) / 1000.0 AND h.t <= f.ms / 1000.0 AND h.vis <= f.seq) >= 5
        THEN 4
      WHEN f.icp AND f.nc
        AND (SELECT count(DISTINCT h.lead) FROM ahit h WHERE h.acct = f.acct AND h.kind = 4
               AND h.t > (f.ms - 14 * 86400000) / 1000.0 AND h.t <= f.ms / 1000.0 AND h.seq <= f.seq) >= 3
        AND (SELECT count(*) FROM ahit h WHERE h.acct = f.acct AND h.kind = 4
               AND h.t > (f.ms - 14 * 86400000) / 1000.0 AND h.t <= f.ms / 1000.0 AND h.seq <= f.seq) >= 6
        THEN 5
      -- closed_won_pattern (score >= 0.7): no trained model, so no score: never holds
    END AS gate
  FROM (SELECT lf.*,
               (a_industry IN ('software', 'fintech', 'healthtech') AND typeof(a_employees) IN ('integer', 'real')
                AND a_employees >= 200) AS icp,
               NOT coalesce(a_status = 'customer', 0) AS nc
        FROM lf WHERE known) f)
WHERE gate IS NOT NULL;
CREATE INDEX cand_lead ON cand(lead, seq);
INSERT INTO phase VALUES ('gates', julianday('now'));

-- ---- 5. the lifecycle: handoff, needs-context, rejection, cooldown -------------------

-- When each lead first has both pain and impact (anonymous history's arrive with the link).
CREATE TABLE ctx AS
SELECT lead, max(p, i) AS seq FROM (
  SELECT lead, min(CASE WHEN pain IS NOT NULL THEN CASE WHEN known THEN seq ELSE link_seq END END) AS p,
               min(CASE WHEN impact IS NOT NULL THEN CASE WHEN known THEN seq ELSE link_seq END END) AS i
  FROM (SELECT CASE WHEN known THEN lead ELSE link_uid END AS lead, known, seq, link_seq, pain, impact
        FROM lf WHERE known OR link_seq > seq)
  GROUP BY lead)
WHERE p IS NOT NULL AND i IS NOT NULL;
CREATE UNIQUE INDEX ctx_lead ON ctx(lead);

-- Verdicts that move a handed-off lead: back to nurture with a cooldown, or
-- suppressed (a reroute keeps it handed off, an unknown code changes nothing).
CREATE TABLE rej AS
SELECT lead, seq, ms, CASE reason WHEN 'not_icp' THEN 90 WHEN 'wrong_timing' THEN 30 WHEN 'no_budget' THEN 60
                                  WHEN 'bad_company_size' THEN 180 END * 86400000 AS cooldown
FROM lf WHERE known AND type = 'track' AND name = 'Handoff Rejected'
  AND reason IN ('not_icp', 'wrong_timing', 'no_budget', 'bad_company_size', 'already_customer');
CREATE INDEX rej_lead ON rej(lead, seq);

-- Each step: the first candidate once the lead is open; handed off at once, or
-- when its context arrives; then the first verdict after that; a cooldown
-- opens the lead again at its first event after the cooldown ends.
CREATE TABLE handoff AS
WITH RECURSIVE step(lead, seq, ms, gate, ready, live) AS (
  SELECT c.lead, c.seq, c.ms, c.gate, x.seq <= c.seq,
         CASE WHEN x.seq <= c.seq THEN c.seq ELSE x.seq END
  FROM (SELECT lead, min(seq) AS seq FROM cand GROUP BY lead) m
  JOIN cand c ON c.lead = m.lead AND c.seq = m.seq
  LEFT JOIN ctx x ON x.lead = c.lead
  UNION ALL
  SELECT c.lead, c.seq, c.ms, c.gate, x.seq <= c.seq,
         CASE WHEN x.seq <= c.seq THEN c.seq ELSE x.seq END
  FROM step s
  JOIN rej r ON r.lead = s.lead AND r.seq = (SELECT min(seq) FROM rej WHERE lead = s.lead AND seq > s.live)
  JOIN cand c ON c.lead = s.lead AND c.seq = (SELECT min(seq) FROM cand WHERE lead = s.lead AND seq > r.seq
                                                AND ms >= r.ms + r.cooldown)
  LEFT JOIN ctx x ON x.lead = s.lead
  WHERE s.live IS NOT NULL AND r.cooldown IS NOT NULL
)
SELECT lead, gate, ms, ready FROM step;
INSERT INTO phase VALUES ('walk', julianday('now'));

.mode list
.separator "\t" "\n"
SELECT p.name, printf('%.4f', (p.at - q.at) * 86400.0) FROM phase p JOIN phase q ON q.rowid = p.rowid - 1;
SELECT lead,
       CASE gate WHEN 0 THEN 'fast_track' WHEN 1 THEN 'human_reply' WHEN 2 THEN 'activation' WHEN 3 THEN 'fit_intent'
                 WHEN 4 THEN 'engaged' WHEN 5 THEN 'buying_committee' END,
       ms, CASE WHEN ready THEN 'handed_off' ELSE 'needs_context' END
FROM handoff ORDER BY ms, lead;
