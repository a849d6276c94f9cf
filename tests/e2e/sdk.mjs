// Sends one buying journey through the real Segment and RudderStack Node
// clients to a baton server: node sdk.mjs URL WRITE_KEY LEAD_PREFIX
import { Analytics } from '@segment/analytics-node';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';

const [url, writeKey, prefix] = process.argv.slice(2);
const t0 = Date.parse('2026-10-05T09:00:00Z');
const at = (minutes) => new Date(t0 + minutes * 60000);

async function segment() {
  const analytics = new Analytics({ writeKey, host: url, flushAt: 10, flushInterval: 100, maxRetries: 1 });
  const failures = [];
  analytics.on('error', (err) => failures.push(err));
  const userId = `${prefix}-segment`;
  analytics.group({ userId, groupId: 'northwind.example', timestamp: at(0),
    traits: { domain: 'northwind.example', industry: 'software', employees: 450, status: 'prospect' } });
  analytics.identify({ userId, timestamp: at(1),
    traits: { email: `${userId}@northwind.example`, pain: 'triage by hand', impact: 'two lost deals a quarter' } });
  analytics.page({ userId, category: 'pricing', name: 'Pricing', timestamp: at(3), properties: { seconds: 185 } });
  await analytics.closeAndFlush({ timeout: 10000 });
  if (failures.length) throw new Error(`segment: ${failures.map(String).join('; ')}`);
}

async function rudderstack() {
  const client = new RudderAnalytics(writeKey, { dataPlaneUrl: url, flushAt: 10, flushInterval: 100 });
  const userId = `${prefix}-rudder`;
  const send = (method, message) => new Promise((resolve, reject) =>
    client[method](message, (err) => (err ? reject(err) : resolve())));
  const identify = send('identify', { userId, timestamp: at(1),
    traits: { email: `${userId}@northwind.example`, pain: 'no routing rules', impact: 'slow replies' } });
  const track = send('track', { userId, event: 'Demo Requested', timestamp: at(5), properties: { form: 'pricing' } });
  await client.flush();
  await Promise.all([identify, track]);
}

await segment();
await rudderstack();
console.log('sent');
