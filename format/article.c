/* article.c - article lifetime and ISO 8601 time parsing/formatting (UTC only). */
#include "article.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

int fmt_article_init(struct fmt_article *a)
{
    char **f[] = {&a->id, &a->title, &a->source, &a->url, &a->body};

    memset(a, 0, sizeof(*a));
    a->timestamp = FMT_NO_TIME;
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        *f[i] = calloc(1, 1);
        if (!*f[i]) {
            fmt_article_release(a);
            return FMT_ENOMEM;
        }
    }
    return FMT_OK;
}

void fmt_article_release(struct fmt_article *a)
{
    free(a->id);
    free(a->title);
    free(a->source);
    free(a->url);
    free(a->body);
    memset(a, 0, sizeof(*a));
    a->timestamp = FMT_NO_TIME;
}

int fmt_article_set(char **field, const char *s, size_t len)
{
    char *p = malloc(len + 1);

    if (!p)
        return FMT_ENOMEM;
    memcpy(p, s, len);
    p[len] = 0;
    free(*field);
    *field = p;
    return FMT_OK;
}

/* Howard Hinnant's days_from_civil algorithm. */
int64_t fmt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void fmt_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, unsigned m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 ? 28 + leap : dm[m - 1];
}

/* Read exactly N digits at s[*i]. */
static int digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;

    for (int k = 0; k < n; k++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return -1;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return 0;
}

int fmt_time_parse(const char *s, size_t len, int64_t *out)
{
    int y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0, sign = 0;
    size_t i = 0;

    if (digits(s, len, &i, 4, &y) || i >= len || s[i++] != '-' || digits(s, len, &i, 2, &mo) ||
        i >= len || s[i++] != '-' || digits(s, len, &i, 2, &d))
        return FMT_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (unsigned)mo))
        return FMT_EINVAL;
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        if (digits(s, len, &i, 2, &h) || i >= len || s[i++] != ':' || digits(s, len, &i, 2, &mi))
            return FMT_EINVAL;
        if (i < len && s[i] == ':') {
            i++;
            if (digits(s, len, &i, 2, &se))
                return FMT_EINVAL;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                i++;
                if (i >= len || s[i] < '0' || s[i] > '9')
                    return FMT_EINVAL;
                while (i < len && s[i] >= '0' && s[i] <= '9')
                    i++;
            }
        }
        if (h > 23 || mi > 59 || se > 60)
            return FMT_EINVAL;
        if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < len && (s[i] == '+' || s[i] == '-')) {
            sign = s[i++] == '-' ? -1 : 1;
            if (digits(s, len, &i, 2, &oh))
                return FMT_EINVAL;
            if (i < len && s[i] == ':')
                i++;
            if (digits(s, len, &i, 2, &om) || oh > 23 || om > 59)
                return FMT_EINVAL;
        }
    }
    if (i != len)
        return FMT_EINVAL;
    *out = fmt_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se -
           sign * (oh * 3600 + om * 60);
    return FMT_OK;
}

void fmt_time_format(int64_t t, char *out, size_t cap)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400, y;
    unsigned m, d;

    fmt_civil_from_days(days, &y, &m, &d);
    snprintf(out, cap, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60));
}
