/* article.h - one news article as parsed from input and as stored in the doc store. */
#ifndef FMT_ARTICLE_H
#define FMT_ARTICLE_H

#include <stddef.h>
#include <stdint.h>

#define FMT_NO_TIME INT64_MIN /* timestamp of an article without a date */

/* Every string is NUL-terminated, valid UTF-8 without NUL bytes, owned by the article and
 * freed by fmt_article_release(); a missing field is "" (never NULL after
 * fmt_article_init). */
struct fmt_article {
    char *id;          /* stable key: given id, else url, else path relative to the root */
    char *title;
    char *source;      /* e.g. "BBC News"; "" when unknown */
    char *url;
    char *body;
    int64_t timestamp; /* seconds since the epoch, UTC, or FMT_NO_TIME */
};

/* Set every string to an owned "" and timestamp to FMT_NO_TIME. FMT_OK or FMT_ENOMEM. */
int fmt_article_init(struct fmt_article *a);
void fmt_article_release(struct fmt_article *a);
/* Replace *FIELD (one of a's strings) by a copy of S[0..len). FMT_OK or FMT_ENOMEM. */
int fmt_article_set(char **field, const char *s, size_t len);

/* Parse ISO 8601 UTC text: "2025-02-12", "2025-02-12T10:00:00Z", "2025-02-12 10:00:00",
 * with optional fraction and "+hh:mm"/"-hh:mm"/"Z" offset. FMT_OK or FMT_EINVAL
 * (impossible dates and times such as 25:61 are FMT_EINVAL). */
int fmt_time_parse(const char *s, size_t len, int64_t *out);
/* Format T as "2025-02-12T10:00:00Z" into OUT (at least 21 bytes + NUL = 32 is plenty). */
void fmt_time_format(int64_t t, char *out, size_t cap);
/* Days since 1970-01-01 of a civil date (proleptic Gregorian); the inverse is below. */
int64_t fmt_days_from_civil(int64_t y, unsigned m, unsigned d);
void fmt_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
