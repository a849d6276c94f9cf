/* Lead and account state: the string pool, the maps, hits and dedupe.
 *
 * Memory grows only when something new appears (a lead, an account, a
 * distinct string); per-lead history is a fixed array of LEAD_MAX_HITS. */
#include "engine/internal.h"

#include <string.h>

const char *pool_intern(engine *e, const char *s, size_t len)
{
    return strmap_put(e->strings, s, len, 0); /* the map's stable copy */
}

/* At most `cap` bytes of s, cut at a character boundary. */
static size_t text_cut(const char *s, size_t len, size_t cap)
{
    if (len <= cap) return len;
    len = cap;
    while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80) len--;
    return len;
}

/* A private copy of at most `cap` bytes, cut at a character boundary. */
const char *pool_copy(engine *e, const char *s, size_t len, size_t cap)
{
    return arena_strndup(e->pool, s, text_cut(s, len, cap));
}

bool lead_set_text(engine *e, char **text, const char *s, size_t len, size_t cap)
{
    len = text_cut(s, len, cap);
    if (*text && strlen(*text) >= len) {
        memcpy(*text, s, len);
        (*text)[len] = '\0';
        return true;
    }
    char *copy = arena_strndup(e->pool, s, len);
    if (!copy) return false;
    *text = copy;
    return true;
}

lead *lead_find_or_add(engine *e, uint64_t hash, const char *key, size_t len, uint32_t *index, bool *created)
{
    *created = false;
    if (strmap_get_hashed(e->lead_ids, hash, key, len, index)) return lead_at(e, *index);
    uint32_t n = e->lead_count;
    if (n % LEADS_PER_BLOCK == 0) {
        uint32_t block = n / LEADS_PER_BLOCK;
        if (block == e->lead_block_cap) {
            uint32_t cap = e->lead_block_cap ? 2 * e->lead_block_cap : 16;
            lead **bigger = mem_realloc(e->lead_blocks, cap * sizeof *bigger);
            if (!bigger) return NULL;
            e->lead_blocks = bigger;
            e->lead_block_cap = cap;
        }
        e->lead_blocks[block] = mem_calloc_large(LEADS_PER_BLOCK, sizeof(lead));
        if (!e->lead_blocks[block]) return NULL;
    }
    lead *l = lead_at(e, n);
    memset(l, 0, sizeof *l);
    if (e->lead_slot_count) {
        l->fields = arena_zalloc(e->pool, e->lead_slot_count * sizeof *l->fields);
        if (!l->fields) return NULL;
    }
    l->key = strmap_put(e->lead_ids, key, len, n);
    if (!l->key) return NULL;
    l->account = NO_ACCOUNT;
    e->lead_count++;
    e->stats.leads++;
    *index = n;
    *created = true;
    return l;
}

account *account_find_or_add(engine *e, const char *key, size_t len, uint32_t *index)
{
    if (strmap_get(e->account_ids, key, len, index)) return &e->accounts[*index];
    if (e->account_count == e->account_cap) {
        uint32_t cap = e->account_cap ? 2 * e->account_cap : 16;
        account *bigger = mem_realloc(e->accounts, cap * sizeof *bigger);
        if (!bigger) return NULL;
        e->accounts = bigger;
        e->account_cap = cap;
    }
    account *a = &e->accounts[e->account_count];
    memset(a, 0, sizeof *a);
    if (e->account_slot_count) {
        a->fields = arena_zalloc(e->pool, e->account_slot_count * sizeof *a->fields);
        if (!a->fields) return NULL;
    }
    a->domain = strmap_put(e->account_ids, key, len, e->account_count);
    if (!a->domain) return NULL;
    *index = e->account_count++;
    e->stats.accounts++;
    return a;
}

/* Stores a value in lead or account state: strings are interned, since
 * titles, industries and countries repeat across leads. */
bool value_keep(engine *e, value *dst, const value *src)
{
    /* callers mark the owner unsettled */
    *dst = *src;
    if (src->type != VAL_STR) return true;
    const char *s = pool_intern(e, src->as.str.s, src->as.str.len);
    if (!s) return false;
    dst->as.str.s = s;
    return true;
}

/* Records a hit. A lead's hits are kept in time order, so the oldest of a
 * signal is its first. When the array is full, hits older than the contract
 * needs (contract_info.history) go first; then the oldest hits of the most
 * frequent signals (ties: the lower signal number), so one noisy signal
 * cannot push out a rare one. Eviction frees LEAD_EVICT_BATCH slots at once,
 * so a lead with a long history pays for it once in a while, not on every
 * event. */
#define LEAD_EVICT_BATCH 8

/* Does signal a go before signal b in eviction: more hits, then the lower number. */
static inline bool busier(const uint8_t *counts, uint8_t a, uint8_t b)
{
    if (counts[a] != counts[b]) return counts[a] > counts[b];
    return a < b;
}

static void evict_hits(engine *e, lead *l, time_ms now)
{
    hit *hits = l->history->hits;
    uint32_t horizon = (uint32_t)((now - e->history) / MS_PER_SECOND);
    uint8_t first = 0;
    while (first < l->hit_count && hits[first].t <= horizon) first++;
    l->hit_count = (uint8_t)(l->hit_count - first);
    memmove(hits, hits + first, l->hit_count * sizeof *hits);
    if (l->hit_count <= LEAD_MAX_HITS - LEAD_EVICT_BATCH) return;

    /* how many of each signal go: always one of the busiest, as counted so
     * far. The signals present are kept sorted busiest first (more hits,
     * then the lower signal number), so the next to lose a hit is the first,
     * and after losing it it moves down past the ones now busier. */
    uint8_t counts[CONTRACT_MAX_SIGNALS], drop[CONTRACT_MAX_SIGNALS];
    uint8_t order[LEAD_MAX_HITS];
    uint8_t distinct = 0;
    memset(counts, 0, sizeof counts);
    memset(drop, 0, sizeof drop);
    for (uint8_t i = 0; i < l->hit_count; i++) {
        uint8_t s = hits[i].signal;
        order[distinct] = s;
        distinct += counts[s]++ == 0;
    }
    for (uint8_t i = 1; i < distinct; i++) {
        uint8_t s = order[i], j = i;
        for (; j > 0 && busier(counts, s, order[j - 1]); j--) order[j] = order[j - 1];
        order[j] = s;
    }
    for (int n = l->hit_count - (LEAD_MAX_HITS - LEAD_EVICT_BATCH); n > 0; n--) {
        uint8_t s = order[0], j = 0;
        counts[s]--;
        drop[s]++;
        for (; j + 1 < distinct && busier(counts, order[j + 1], s); j++) order[j] = order[j + 1];
        order[j] = s;
    }
    /* the oldest hits of each go: a signal's first ones, hits being in time order */
    uint8_t kept = 0;
    for (uint8_t i = 0; i < l->hit_count; i++) {
        uint8_t s = hits[i].signal;
        bool keep = drop[s] == 0;
        hits[kept] = hits[i];
        drop[s] = (uint8_t)(drop[s] - !keep);
        kept = (uint8_t)(kept + keep);
    }
    l->hit_count = kept;
}

lead_history *lead_history_of(engine *e, lead *l)
{
    if (l->history) return l->history;
    lead_history *h = e->free_histories;
    if (h) e->free_histories = h->next_free;
    else if (!(h = arena_alloc(e->pool, sizeof *h))) return NULL;
    l->history = h;
    return h;
}

void lead_history_release(engine *e, lead *l)
{
    l->hit_count = l->recent_count = 0;
    if (!l->history) return;
    l->history->next_free = e->free_histories;
    e->free_histories = l->history;
    l->history = NULL;
}

bool lead_add_hit(engine *e, lead *l, uint32_t signal, time_ms t)
{
    lead_history *h = lead_history_of(e, l);
    if (!h) return false;
    if (l->hit_count == LEAD_MAX_HITS) evict_hits(e, l, t);
    uint32_t at = (uint32_t)(t / MS_PER_SECOND);
    uint8_t i = l->hit_count++;
    for (; i > 0 && h->hits[i - 1].t > at; i--) h->hits[i] = h->hits[i - 1]; /* a late event */
    h->hits[i].t = at;
    h->hits[i].signal = (uint8_t)signal;
    return true;
}

bool account_add_hit(engine *e, account *a, uint32_t lead_index, uint32_t signal, time_ms t)
{
    if (a->hit_count == a->hit_cap && a->hit_cap < ACCOUNT_MAX_HITS) {
        /* most accounts see a few hits: the ring grows to the cap as they come */
        uint16_t cap = a->hit_cap ? (uint16_t)(2 * a->hit_cap) : 8;
        if (cap > ACCOUNT_MAX_HITS) cap = ACCOUNT_MAX_HITS;
        account_hit *bigger = mem_realloc(a->hits, cap * sizeof *bigger);
        if (!bigger) return false;
        e->account_hit_bytes += (size_t)(cap - a->hit_cap) * sizeof *bigger;
        a->hits = bigger;
        a->hit_cap = cap;
    }
    a->version++;
    account_hit *h = &a->hits[a->hit_head];
    h->t = (uint32_t)(t / MS_PER_SECOND);
    h->signal = (uint8_t)signal;
    h->lead = lead_index;
    a->hit_head = (uint16_t)((a->hit_head + 1) % ACCOUNT_MAX_HITS);
    if (a->hit_count < ACCOUNT_MAX_HITS) a->hit_count++;
    return true;
}

/* Free-mail and disposable domains: an address there names a person, not
 * an account. The list is documented in docs/events.md. */
static const char *const free_mail[] = {
    "163.com",       "aol.com",         "gmail.com",      "gmx.de",         "gmx.net",
    "googlemail.com", "hotmail.co.uk",  "hotmail.com",    "hotmail.de",     "hotmail.fr",
    "icloud.com",    "laposte.net",     "libero.it",      "live.com",       "mail.com",
    "mail.ru",       "me.com",          "msn.com",        "orange.fr",      "outlook.com",
    "proton.me",     "protonmail.com",  "qq.com",         "t-online.de",    "web.de",
    "yahoo.co.uk",   "yahoo.com",       "yahoo.fr",       "yandex.ru",      "zoho.com",
    /* disposable */
    "10minutemail.com", "dispostable.com", "getnada.com", "guerrillamail.com", "mailinator.com",
    "maildrop.cc",   "sharklasers.com", "tempmail.com",   "trashmail.com",  "yopmail.com",
};

static bool listed(const char *const *list, size_t count, const char *domain, size_t len)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(list[i]) == len && memcmp(list[i], domain, len) == 0) return true;
    return false;
}

/* The built-in list, as the contract's `identity:` section amends it. */
bool is_free_mail(const engine *e, const char *domain, size_t len)
{
    const identity_info *id = contract_identity(e->c);
    if (listed(id->not_free, id->not_free_count, domain, len)) return false;
    return listed(free_mail, ARRAY_LEN(free_mail), domain, len) ||
           listed(id->also_free, id->also_free_count, domain, len);
}

/* ---- dedupe ------------------------------------------------------------------
 * One slot per remembered id: its full 64-bit hash and the hour it was seen,
 * 10 bytes packed. A shorter tag would save memory but lose real events to
 * collisions: at two million live ids a 44-bit tag collides about once per
 * ten million events, a 64-bit hash about once per 10^12. The hour is kept
 * modulo 2^16 (7.4 years), which is plenty to tell a retry inside the
 * window from the same id long before; windows are capped at half that.
 * The table's size is any number of slots, not a power of two (an id's
 * first slot is its hash scaled to the size), so that after a rebuild it
 * holds the live ids at a chosen load whatever their number. */
typedef struct __attribute__((packed)) seen_slot {
    uint64_t hash; /* 0: empty */
    uint16_t hour; /* hours since 1970, modulo 2^16 */
} seen_slot;

#define DEDUPE_MIN_SLOTS 256
#define DEDUPE_MAX_WINDOW_HOURS 32767u

static uint16_t dedupe_hour(time_ms t)
{
    return (uint16_t)(t > 0 ? t / MS_PER_HOUR : 0);
}

/* Hours between two hours modulo 2^16, either way round. */
static uint32_t hours_apart(uint16_t a, uint16_t b)
{
    uint16_t d = (uint16_t)(a - b);
    return d > 32768u ? (uint16_t)(b - a) : d;
}

/* hours_apart(hour, s->hour) <= window for a used slot, without a branch:
 * the distance either way is within the window exactly when the forward
 * distance plus the window, modulo 2^16, is at most twice the window
 * (window < 2^15). */
static inline bool is_live(const seen_slot *s, uint16_t hour, uint32_t window)
{
    uint16_t shifted = (uint16_t)(hour - s->hour + window);
    return (s->hash != 0) & (shifted <= 2 * window);
}

static uint32_t window_hours(const dedupe *d)
{
    uint64_t h = (uint64_t)(d->window + MS_PER_HOUR - 1) / MS_PER_HOUR;
    return h > DEDUPE_MAX_WINDOW_HOURS ? DEDUPE_MAX_WINDOW_HOURS : (uint32_t)h;
}

static size_t first_slot(uint64_t hash, size_t cap)
{
    return (size_t)(((unsigned __int128)hash * cap) >> 64);
}

bool dedupe_init(dedupe *d, duration_ms window)
{
    d->cap = DEDUPE_MIN_SLOTS;
    d->count = 0;
    d->window = window;
    d->slots = mem_calloc(d->cap, sizeof(seen_slot));
    return d->slots != NULL;
}

void dedupe_free(dedupe *d)
{
    mem_free(d->slots);
    d->slots = NULL;
}

size_t dedupe_bytes(const dedupe *d)
{
    return d->cap * sizeof(seen_slot);
}

static void dedupe_insert(seen_slot *slots, size_t cap, uint64_t hash, uint16_t hour)
{
    size_t i = first_slot(hash, cap);
    while (slots[i].hash)
        if (++i == cap) i = 0;
    slots[i].hash = hash;
    slots[i].hour = hour;
}

/* Rebuilds the table without expired ids, at half load: it is rebuilt
 * again once half as many ids again have arrived, so a rebuild costs each
 * id about four slot reads and two moves, and the table stays between half
 * and three quarters full (probes within a cache line or two). The first
 * pass marks the live slots in a bitmap (a bit per 10-byte slot), so the
 * second reads only those. On failure the table is as it was. */
static bool dedupe_rebuild(dedupe *d, uint16_t hour)
{
    seen_slot *old = d->slots;
    uint32_t window = window_hours(d);
    size_t words = (d->cap + 63) / 64;
    uint64_t *alive = mem_calloc(words, sizeof *alive);
    if (!alive) return false;
    size_t live = 0;
    for (size_t w = 0; w < words; w++) {
        size_t base = w * 64, n = d->cap - base < 64 ? d->cap - base : 64;
        uint64_t bits = 0;
        for (size_t j = 0; j < n; j++) bits |= (uint64_t)is_live(&old[base + j], hour, window) << j;
        alive[w] = bits;
        live += (size_t)__builtin_popcountll(bits);
    }
    size_t cap = 2 * live + 1;
    if (cap < DEDUPE_MIN_SLOTS) cap = DEDUPE_MIN_SLOTS;
    seen_slot *slots = mem_calloc(cap, sizeof *slots);
    if (!slots) {
        mem_free(alive);
        return false;
    }
    for (size_t w = 0; w < words; w++) {
        for (uint64_t bits = alive[w]; bits; bits &= bits - 1) {
            const seen_slot *s = &old[w * 64 + (size_t)__builtin_ctzll(bits)];
            dedupe_insert(slots, cap, s->hash, s->hour);
        }
    }
    mem_free(alive);
    mem_free(old);
    d->slots = slots;
    d->cap = cap;
    d->count = live;
    return true;
}

uint64_t dedupe_hash(const char *id, size_t len)
{
    uint64_t hash = hash_bytes(id, len);
    return hash ? hash : 1; /* 0 marks an empty slot */
}

void dedupe_prefetch(const dedupe *d, uint64_t hash)
{
    __builtin_prefetch(&d->slots[first_slot(hash, d->cap)]);
}

bool dedupe_seen(dedupe *d, uint64_t hash, time_ms now, bool *nomem)
{
    *nomem = false;
    uint16_t hour = dedupe_hour(now);
    seen_slot *slots = d->slots;
    size_t i = first_slot(hash, d->cap);
    for (; slots[i].hash; i = i + 1 == d->cap ? 0 : i + 1) {
        if (slots[i].hash != hash) continue;
        /* remembered for the window around its first sight, to the hour */
        if (hours_apart(hour, slots[i].hour) <= window_hours(d)) return true;
        slots[i].hour = hour; /* seen long ago: counts as new */
        return false;
    }
    if ((d->count + 1) * 4 > d->cap * 3) {
        if (!dedupe_rebuild(d, hour)) {
            *nomem = true;
            return false;
        }
        dedupe_insert(d->slots, d->cap, hash, hour);
    } else {
        /* the search ended on the empty slot an insert would take */
        slots[i].hash = hash;
        slots[i].hour = hour;
    }
    d->count++;
    return false;
}
