/*
 * demo is the worked example of the C SDK: a numeric scalar (double_it), a
 * string scalar (shout), a table function (words) and a retractable
 * aggregate (mean). Its manifest is strata.json.
 */
#include "strata.h"

/* double_it(x double) -> double: 2x, NULL for NULL. */
STRATA_EXPORT(double_it)
const strata_result *double_it(const strata_frame *f) {
	const strata_column *x = strata_arg(f, 0);
	strata_out *out = strata_out_start(STRATA_DOUBLE, f->nrows);
	const double *xs = strata_doubles(x);
	double *ys = strata_out_doubles(out);
	for (uint32_t i = 0; ys != NULL && i < f->nrows; i++)
		ys[i] = xs[i] * 2;
	strata_out_null_where(out, x);
	return strata_out_finish(out);
}

/* shout(s varchar) -> varchar: ASCII upper case with a "!"; an empty
 * string is a row error. */
STRATA_EXPORT(shout)
const strata_result *shout(const strata_frame *f) {
	const strata_column *s = strata_arg(f, 0);
	strata_out *out = strata_out_start(STRATA_VARCHAR, f->nrows);
	for (uint32_t i = 0; i < f->nrows; i++) {
		if (strata_is_null(s, i)) {
			strata_out_append_null(out);
			continue;
		}
		strata_bytes b = strata_get_bytes(s, i);
		if (b.len == 0) {
			strata_out_append_null(out);
			strata_out_error(out, i, "shout: empty string");
			continue;
		}
		uint8_t *dst = strata_out_reserve(out, b.len + 1);
		if (dst == NULL)
			break;
		for (uint32_t j = 0; j < b.len; j++) {
			uint8_t c = b.ptr[j];
			dst[j] = c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c;
		}
		dst[b.len] = '!';
	}
	return strata_out_finish(out);
}

static bool is_space(uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* words(s varchar) -> setof varchar: the words of s (split on ASCII
 * whitespace). */
STRATA_EXPORT(words)
const strata_result *words(const strata_frame *f) {
	const strata_column *s = strata_arg(f, 0);
	strata_out *out = strata_out_start(STRATA_VARCHAR, 0);
	for (uint32_t i = 0; i < f->nrows; i++) {
		if (strata_is_null(s, i))
			continue;
		strata_bytes b = strata_get_bytes(s, i);
		for (uint32_t j = 0; j < b.len;) {
			while (j < b.len && is_space(b.ptr[j]))
				j++;
			uint32_t start = j;
			while (j < b.len && !is_space(b.ptr[j]))
				j++;
			if (j > start) {
				strata_out_emit(out, i);
				strata_out_append(out, b.ptr + start, j - start);
			}
		}
	}
	return strata_out_finish(out);
}

/* mean(x double) -> double: the average of the non-NULL values; retractable. */
typedef struct {
	double sum;
	int64_t count;
} mean_state;

static const mean_state mean_init = {0, 0};

static const char *mean_add(void *state, const strata_frame *f, uint32_t row) {
	mean_state *s = state;
	const strata_column *x = strata_arg(f, 0);
	if (!strata_is_null(x, row)) {
		s->sum += strata_doubles(x)[row];
		s->count++;
	}
	return NULL;
}

static const char *mean_sub(void *state, const strata_frame *f, uint32_t row) {
	mean_state *s = state;
	const strata_column *x = strata_arg(f, 0);
	if (!strata_is_null(x, row)) {
		s->sum -= strata_doubles(x)[row];
		s->count--;
	}
	return NULL;
}

static void mean_combine(void *a, const void *b) {
	mean_state *sa = a;
	const mean_state *sb = b;
	sa->sum += sb->sum;
	sa->count += sb->count;
}

static void mean_final(const void *state, strata_out *out, uint32_t g) {
	const mean_state *s = state;
	if (s->count == 0)
		strata_out_set_null(out, g);
	else
		strata_out_doubles(out)[g] = s->sum / (double)s->count;
}

STRATA_EXPORT(mean_accumulate)
const strata_result *mean_accumulate(const strata_frame *f) {
	return strata_fold(f, &mean_init, sizeof mean_init, mean_add);
}

STRATA_EXPORT(mean_retract)
const strata_result *mean_retract(const strata_frame *f) {
	return strata_fold(f, &mean_init, sizeof mean_init, mean_sub);
}

STRATA_EXPORT(mean_merge)
const strata_result *mean_merge(const strata_frame *f) {
	return strata_merge(f, &mean_init, sizeof mean_init, mean_combine);
}

STRATA_EXPORT(mean_finish)
const strata_result *mean_finish(const strata_frame *f) {
	return strata_finish(f, &mean_init, sizeof mean_init, STRATA_DOUBLE, mean_final);
}
