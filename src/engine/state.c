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

/* Drops `n` (< count) hits of a full array: one at a time from the busiest
 * signal as counted so far (more hits, then the lower signal number), each
 * time its oldest. Worked out at once: the busiest come down to a level T,
 * where taking every signal at T one lower would be more than n, and the
 * r left over go from the lowest-numbered signals at T. */
static uint8_t evict_busiest(hit *hits, unsigned count, unsigned n)
{
    uint8_t counts[CONTRACT_MAX_SIGNALS], order[LEAD_MAX_HITS];
    uint8_t at_count[LEAD_MAX_HITS + 1] = {0}; /* how many signals have that many hits */
    uint64_t present[CONTRACT_MAX_SIGNALS / 64] = {0};
    memset(counts, 0, sizeof counts);
    for (unsigned i = 0; i < count; i++) {
        uint8_t s = hits[i].signal;
        counts[s]++;
        present[s / 64] |= UINT64_C(1) << (s % 64);
    }
    /* the signals present in increasing number, so ties go to the first */
    unsigned distinct = 0, top = 0;
    for (unsigned w = 0; w < CONTRACT_MAX_SIGNALS / 64; w++) {
        for (uint64_t bits = present[w]; bits; bits &= bits - 1) {
            uint8_t s = (uint8_t)(w * 64 + (unsigned)__builtin_ctzll(bits));
            order[distinct++] = s;
            at_count[counts[s]]++;
            if (counts[s] > top) top = counts[s];
        }
    }
    unsigned level = top, above = 0,
             at_or_above = 0; /* above: the drops to bring all down to level */
    for (;; level--) {
        at_or_above += at_count[level];
        if (above + at_or_above > n) break;
        above += at_or_above;
    }
    unsigned extra = n - above;
    uint8_t *drop = counts; /* from here: how many of each go */
    for (unsigned k = 0; k < distinct; k++) {
        uint8_t s = order[k], c = counts[s], d = c > level ? (uint8_t)(c - level) : 0;
        if (c >= level && extra) {
            d++;
            extra--;
        }
        drop[s] = d;
    }
    /* the oldest hits of each go: a signal's first ones, hits being in time
     * order. The hits before the first to go stay where they are, and those
     * after the last to go move down in one piece. */
    unsigned i = 0;
    while (drop[hits[i].signal] == 0)
        i++;
    unsigned kept = i;
    for (unsigned left = n; left; i++) {
        uint8_t s = hits[i].signal;
        if (drop[s]) {
            drop[s]--;
            left--;
        } else {
            hits[kept++] = hits[i];
        }
    }
    memmove(hits + kept, hits + i, (count - i) * sizeof *hits);
    return (uint8_t)(kept + count - i);
}

static void evict_hits(engine *e, lead *l, time_ms now)
{
    hit *hits = l->history->hits;
    uint32_t horizon = (uint32_t)((now - e->history) / MS_PER_SECOND);
    uint8_t first = 0;
    while (first < l->hit_count && hits[first].t <= horizon)
        first++;
    if (first) {
        l->hit_count = (uint8_t)(l->hit_count - first);
        memmove(hits, hits + first, l->hit_count * sizeof *hits);
    }
    if (l->hit_count <= LEAD_MAX_HITS - LEAD_EVICT_BATCH) return;
    l->hit_count =
        evict_busiest(hits, l->hit_count, l->hit_count - (LEAD_MAX_HITS - LEAD_EVICT_BATCH));
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
 * 10 bytes. A shorter tag would save memory but lose real events to
 * collisions: at two million live ids a 44-bit tag collides about once per
 * ten million events, a 64-bit hash about once per 10^12. The hour is kept
 * modulo 2^16 (7.4 years), which is plenty to tell a retry inside the
 * window from the same id long before; windows are capped at half that.
 * The hashes and the hours are two arrays in one block (hashes first): a
 * search reads only hashes, eight to a cache line, and a rebuild's count of
 * the live ids reads both in step, which the compiler can do many at a time.
 * The table's size is any number of slots, not a power of two (an id's
 * first slot is its hash scaled to the size), so that after a rebuild it
 * holds the live ids at a chosen load whatever their number. */
#define DEDUPE_SLOT_BYTES       (sizeof(uint64_t) + sizeof(uint16_t))
#define DEDUPE_MIN_SLOTS        256
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

/* hours_apart(hour, seen) <= window, without a branch: the distance
 * either way is within the window exactly when the forward distance plus
 * the window, modulo 2^16, is at most twice the window (window < 2^15). */
static inline bool within(uint16_t seen, uint16_t hour, uint32_t window)
{
    uint16_t shifted = (uint16_t)(hour - seen + window);
    return shifted <= 2 * window;
}

static uint32_t window_hours(duration_ms window)
{
    uint64_t h = (uint64_t)(window + MS_PER_HOUR - 1) / MS_PER_HOUR;
    return h > DEDUPE_MAX_WINDOW_HOURS ? DEDUPE_MAX_WINDOW_HOURS : (uint32_t)h;
}

/* The table is rebuilt rather than filled past three quarters. */
static size_t fill_limit(size_t cap)
{
    return cap * 3 / 4;
}

static size_t first_slot(uint64_t hash, size_t cap)
{
    return (size_t)(((unsigned __int128)hash * cap) >> 64);
}

/* Points the table at a zeroed block of `cap` slots; false when memory runs out. */
static bool dedupe_alloc(dedupe *d, size_t cap)
{
    uint64_t *block = mem_calloc(cap, DEDUPE_SLOT_BYTES);
    if (!block) return false;
    d->hashes = block;
    d->hours = (uint16_t *)(block + cap);
    d->cap = cap;
    d->limit = fill_limit(cap);
    return true;
}

bool dedupe_init(dedupe *d, duration_ms window)
{
    d->count = 0;
    d->window = window;
    d->window_hours = window_hours(window);
    return dedupe_alloc(d, DEDUPE_MIN_SLOTS);
}

void dedupe_free(dedupe *d)
{
    mem_free(d->hashes);
    d->hashes = NULL;
    d->hours = NULL;
}

size_t dedupe_bytes(const dedupe *d)
{
    return d->cap * DEDUPE_SLOT_BYTES;
}

static void dedupe_insert(dedupe *d, uint64_t hash, uint16_t hour)
{
    size_t i = first_slot(hash, d->cap);
    while (d->hashes[i])
        if (++i == d->cap) i = 0;
    d->hashes[i] = hash;
    d->hours[i] = hour;
}

/* Rebuilds the table without expired ids, at half load: it is rebuilt
 * again once half as many ids again have arrived, so a rebuild costs each
 * id about four slot reads and two moves, and the table stays between half
 * and three quarters full (probes within a cache line or two). A first
 * pass counts the live slots, to size the new table; the second moves them.
 * The count reads the hours alone, many at a time: an empty slot's hour is
 * 0, never written, so the empty ones are taken off when 0 is within the
 * window. On failure the table is as it was. */
static bool dedupe_rebuild(dedupe *d, uint16_t hour)
{
    const uint64_t *hashes = d->hashes;
    const uint16_t *hours = d->hours;
    size_t old_cap = d->cap, live = 0;
    uint32_t window = d->window_hours;
    for (size_t j = 0; j < old_cap; j++)
        live += within(hours[j], hour, window);
    if (within(0, hour, window)) live -= old_cap - d->count;
    size_t cap = 2 * live + 1;
    if (cap < DEDUPE_MIN_SLOTS) cap = DEDUPE_MIN_SLOTS;
    if (!dedupe_alloc(d, cap)) return false;
    for (size_t j = 0; j < old_cap; j++)
        if (hashes[j] && within(hours[j], hour, window)) dedupe_insert(d, hashes[j], hours[j]);
    mem_free((void *)hashes);
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
    size_t i = first_slot(hash, d->cap);
    __builtin_prefetch(&d->hashes[i]);
    __builtin_prefetch(&d->hours[i], 1); /* a new id's hour is written there */
}

/* Files a new id when the table is full: after a rebuild, its slot is not
 * the one the search ended on. Kept out of dedupe_seen(), which runs per event. */
static __attribute__((noinline)) bool rebuild_and_insert(dedupe *d, uint64_t hash, uint16_t hour,
                                                         bool *nomem)
{
    if (!dedupe_rebuild(d, hour)) {
        *nomem = true;
        return false;
    }
    dedupe_insert(d, hash, hour);
    d->count++;
    return false;
}

bool dedupe_seen(dedupe *d, uint64_t hash, time_ms now, bool *nomem)
{
    *nomem = false;
    uint16_t hour = dedupe_hour(now);
    const uint64_t *hashes = d->hashes;
    size_t i = first_slot(hash, d->cap);
    for (; hashes[i]; i = i + 1 == d->cap ? 0 : i + 1) {
        if (hashes[i] != hash) continue;
        /* remembered for the window around its first sight, to the hour */
        if (hours_apart(hour, d->hours[i]) <= d->window_hours) return true;
        d->hours[i] = hour; /* seen long ago: counts as new */
        return false;
    }
    if (d->count + 1 > d->limit) return rebuild_and_insert(d, hash, hour, nomem);
    /* the search ended on the empty slot an insert would take */
    d->hashes[i] = hash;
    d->hours[i] = hour;
    d->count++;
    return false;
}
