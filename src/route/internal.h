/* Private to src/route/: the reps table and the rotation's state. */
#ifndef BATON_ROUTE_INTERNAL_H
#define BATON_ROUTE_INTERNAL_H

#include "calendar/calendar.h"
#include "route/route.h"

#define ROUTE_MAX_NAMES 65536 /* distinct teams, territories and zones a router remembers */
#define ROUTE_NO_NAME UINT32_MAX

typedef struct day_range {
    int64_t from, to; /* local days, inclusive */
} day_range;

typedef struct rep {
    const char *id;   /* the id map's copy: stable until route_free() */
    char *name, *email; /* NULL when not given */
    uint32_t team;    /* name id */
    uint32_t territories[ROUTE_MAX_TERRITORIES];
    uint8_t territory_count;
    uint8_t workdays; /* bit 0 Monday .. bit 6 Sunday */
    uint16_t day_start, day_end;
    uint32_t zone;    /* name id of the time zone */
    uint32_t cal;     /* index into router.cals */
    uint32_t capacity;
    day_range away[ROUTE_MAX_AWAY];
    uint8_t away_count;
    bool active;
    /* the rotation: smooth weighted round-robin credit, handoffs held,
     * leads owed back by the credit-back policy, leads ever assigned */
    int64_t credit;
    uint32_t open, owed;
    uint64_t assigned;
} rep;

struct router {
    calendar_info defaults;
    rep *reps;
    uint32_t count, cap;
    uint32_t *order;  /* rep indexes sorted by id: pools are walked in this order,
                       * so decisions do not depend on the order reps were set */
    uint8_t *status;  /* per rep, scratch for route_assign(): sized with reps */
    strmap *ids;      /* rep id -> index */
    strmap *names;    /* team, territory, zone -> name id */
    const char **name_of;
    uint32_t name_count, name_cap;
    strmap *cal_keys; /* "zone|workdays|start|end" -> calendar index */
    calendar **cals;
    uint32_t cal_count, cal_cap;
};

/* The id of a name, interning it; ROUTE_NO_NAME when memory or the cap runs out. */
uint32_t route_name_intern(router *r, const char *s, size_t len);
/* The id of a name already seen, or ROUTE_NO_NAME. */
uint32_t route_name_find(const router *r, const char *s);

#endif
