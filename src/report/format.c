/* Numbers, durations and rates in the words every renderer uses. */
#include "report/internal.h"

#include <math.h>
#include <string.h>

void fmt_duration(duration_ms d, char *buf, size_t size)
{
    if (d < MS_PER_HOUR) snprintf(buf, size, "%lldm", (long long)((d + MS_PER_MINUTE / 2) / MS_PER_MINUTE));
    else if (d < 2 * MS_PER_DAY) snprintf(buf, size, "%.1fh", (double)d / MS_PER_HOUR);
    else snprintf(buf, size, "%.1fd", (double)d / MS_PER_DAY);
}

void fmt_percent(double rate, char *buf, size_t size)
{
    if (rate < 0) snprintf(buf, size, "-");
    else snprintf(buf, size, "%.0f%%", floor(rate * 100 + 0.5));
}

void fmt_amount(double amount, char *buf, size_t size)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", floor(amount + 0.5));
    size_t n = strlen(digits), o = 0;
    for (size_t i = 0; i < n && o + 2 < size; i++) {
        if (i && digits[0] != '-' && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
}

void fmt_sla(const sla_figure *f, char *buf, size_t size)
{
    static const char *const units[] = {[SLA_BUSINESS_HOURS] = "business hour", [SLA_BUSINESS_DAYS] = "business day"};
    if (!f->set) {
        snprintf(buf, size, "none");
    } else if (f->unit == SLA_ELAPSED) {
        duration_format(f->amount, buf, size);
    } else {
        snprintf(buf, size, "%lld %s%s", (long long)f->amount, units[f->unit], f->amount == 1 ? "" : "s");
    }
}

void fmt_number(double v, char *buf, size_t size)
{
    snprintf(buf, size, "%.10g", v);
}
