/*
 * strata.h: the C SDK for Strata UDFs (ABI v1, docs/udf-abi.md).
 *
 * Header-only. Build a module with clang and wasi-libc:
 *
 *     clang --target=wasm32-wasi -O2 -mexec-model=reactor -o fn.wasm fn.c
 *
 * then `strata udf build` (or udf.EmbedManifest) adds the manifest. Each
 * function is exported under its manifest name and takes the frame the host
 * wrote and returns the result descriptor:
 *
 *     STRATA_EXPORT(double_it)
 *     const strata_result *double_it(const strata_frame *f) { ... }
 *
 * Aggregates export NAME_accumulate, NAME_retract, NAME_merge and
 * NAME_finish; strata_fold, strata_merge and strata_finish do the state
 * bookkeeping.
 *
 * Ownership: argument columns point into host-written memory, valid during
 * the call. The result is SDK-owned memory that the next call reuses: the
 * host copies it out before calling again. A module is single-threaded.
 * When memory runs out the builder stops growing and the call returns NULL,
 * which the host reports as a failed call.
 *
 * Several .c files may include this header; each gets its own builder.
 */
#ifndef STRATA_H
#define STRATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__wasm32__)
#error "strata.h targets wasm32 (clang --target=wasm32-wasi)"
#endif

/* Type codes of ABI v1. */
enum {
	STRATA_BOOLEAN = 1,
	STRATA_INT32 = 2,
	STRATA_INT64 = 3,
	STRATA_DOUBLE = 4,
	STRATA_VARCHAR = 5,
	STRATA_BYTEA = 6,
	STRATA_TIMESTAMP = 7, /* int64 microseconds since 1970-01-01 UTC */
};

/* strata_column is an Arrow column in guest memory (32 bytes). validity
 * is NULL when no row is NULL; offsets is set for varchar and bytea. */
typedef struct strata_column {
	uint32_t type;
	uint32_t len;
	uint32_t null_count;
	const uint8_t *validity;
	const uint32_t *offsets;
	const void *values;
	uint32_t values_len;
	uint32_t reserved;
} strata_column;

/* strata_frame is the input of one call (96 bytes, then the arguments). */
typedef struct strata_frame {
	uint32_t abi;
	uint32_t nrows;
	uint32_t nargs;
	uint32_t ngroups;
	const uint32_t *groups; /* aggregates: the state index of each row */
	uint32_t reserved[3];
	strata_column states;  /* aggregates: bytea, NULL = the initial state */
	strata_column states2; /* merge: the second operand */
	strata_column args[];
} strata_frame;

/* strata_error is one per-row error of a result. */
typedef struct strata_error {
	uint32_t row;
	const char *msg;
	uint32_t len;
} strata_error;

/* strata_result is the result descriptor (48 bytes). */
typedef struct strata_result {
	uint32_t nrows;
	uint32_t nerrors;
	const strata_error *errors;
	const uint32_t *parents; /* table functions: the input row of each output row */
	strata_column data;
} strata_result;

_Static_assert(sizeof(strata_column) == 32, "ABI v1 column descriptors are 32 bytes");
_Static_assert(offsetof(strata_frame, states) == 32, "ABI v1 frame layout");
_Static_assert(offsetof(strata_frame, args) == 96, "ABI v1 frame header is 96 bytes");
_Static_assert(sizeof(strata_result) == 48, "ABI v1 result descriptors are 48 bytes");
_Static_assert(sizeof(strata_error) == 12, "ABI v1 error entries are 12 bytes");

/* STRATA_EXPORT(name) exports the function that follows as name. */
#define STRATA_EXPORT(name) __attribute__((export_name(#name)))

/* strata_alloc gives the host a region of guest memory (8-aligned, NULL
 * when out of memory). Weak, so that several files may include this header. */
__attribute__((weak, export_name("strata_alloc"))) void *strata_alloc(uint32_t size) {
	void *p = NULL;
	return posix_memalign(&p, 8, size) == 0 ? p : NULL;
}

/* strata_free returns a region strata_alloc gave. */
__attribute__((weak, export_name("strata_free"))) void strata_free(void *p, uint32_t size) {
	(void)size;
	free(p);
}

/* ---- Input ---- */

/* strata_arg returns argument column i of f. */
static inline const strata_column *strata_arg(const strata_frame *f, uint32_t i) { return &f->args[i]; }

/* strata_is_null reports whether row i of c is NULL. */
static inline bool strata_is_null(const strata_column *c, uint32_t i) {
	return c->validity != NULL && !(c->validity[i >> 3] >> (i & 7) & 1);
}

/* Views of a fixed-width column's values (row i is [i]). */
static inline const double *strata_doubles(const strata_column *c) { return (const double *)c->values; }
static inline const int64_t *strata_int64s(const strata_column *c) { return (const int64_t *)c->values; }
static inline const int32_t *strata_int32s(const strata_column *c) { return (const int32_t *)c->values; }

/* strata_bool returns row i of a boolean column. */
static inline bool strata_bool(const strata_column *c, uint32_t i) {
	return ((const uint8_t *)c->values)[i >> 3] >> (i & 7) & 1;
}

/* strata_bytes is a view of a varchar or bytea value (not NUL-terminated). */
typedef struct strata_bytes {
	const uint8_t *ptr;
	uint32_t len;
} strata_bytes;

/* strata_get_bytes views row i of a varchar or bytea column. */
static inline strata_bytes strata_get_bytes(const strata_column *c, uint32_t i) {
	uint32_t lo = c->offsets[i], hi = c->offsets[i + 1];
	strata_bytes b = {(const uint8_t *)c->values + lo, hi - lo};
	return b;
}

/* ---- Output ---- */

typedef struct strata__buf {
	uint8_t *p;
	uint32_t len, cap;
} strata__buf;

/* strata_out is the result under construction: one per file, reused call
 * after call. */
typedef struct strata_out {
	uint32_t type;
	uint32_t n; /* rows */
	bool has_nulls, oom;
	strata__buf validity, values, offsets, data, parents, errors, msgs, scratch;
	strata_result desc;
} strata_out;

static strata_out strata__out;

/* strata__grow makes room for extra more bytes in b. */
static inline bool strata__grow(strata_out *o, strata__buf *b, uint32_t extra) {
	if (o->oom)
		return false;
	if (extra > UINT32_MAX - b->len) {
		o->oom = true;
		return false;
	}
	uint32_t need = b->len + extra;
	if (need <= b->cap)
		return true;
	uint32_t cap = b->cap < 64 ? 64 : b->cap;
	while (cap < need)
		cap = cap > UINT32_MAX / 2 ? need : cap * 2;
	uint8_t *p = realloc(b->p, cap);
	if (p == NULL) {
		o->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

/* strata__push appends n bytes (src NULL: fill with byte fill) and
 * returns where they went, or NULL when out of memory. */
static inline uint8_t *strata__push(strata_out *o, strata__buf *b, const void *src, uint32_t n, uint8_t fill) {
	if (!strata__grow(o, b, n))
		return NULL;
	uint8_t *dst = b->p + b->len;
	if (n > 0) {
		if (src != NULL)
			memcpy(dst, src, n);
		else
			memset(dst, fill, n);
	}
	b->len += n;
	return dst;
}

static inline uint32_t strata__width(uint32_t type) {
	switch (type) {
	case STRATA_INT32:
		return 4;
	case STRATA_INT64:
	case STRATA_DOUBLE:
	case STRATA_TIMESTAMP:
		return 8;
	}
	return 0;
}

static inline bool strata__var(uint32_t type) { return type == STRATA_VARCHAR || type == STRATA_BYTEA; }

/* strata__rows makes the builder n rows long: the validity bitmap grows
 * all-valid, fixed values grow zeroed. */
static inline void strata__rows(strata_out *o, uint32_t n) {
	uint32_t vbytes = (n + 7) / 8;
	if (o->validity.len < vbytes)
		strata__push(o, &o->validity, NULL, vbytes - o->validity.len, 0xff);
	if (o->type == STRATA_BOOLEAN) {
		if (o->values.len < vbytes)
			strata__push(o, &o->values, NULL, vbytes - o->values.len, 0);
	} else if (!strata__var(o->type)) {
		uint32_t size = n * strata__width(o->type);
		if (o->values.len < size)
			strata__push(o, &o->values, NULL, size - o->values.len, 0);
	}
	o->n = n;
}

/* strata_out_start starts the result of this call: n rows of type. For
 * fixed-width types the n rows exist at once (zero, valid); for varchar and
 * bytea, and for table functions, rows are appended and n is only a hint. */
static inline strata_out *strata_out_start(uint32_t type, uint32_t n) {
	strata_out *o = &strata__out;
	o->type = type;
	o->n = 0;
	o->has_nulls = o->oom = false;
	o->validity.len = o->values.len = o->offsets.len = o->data.len = 0;
	o->parents.len = o->errors.len = o->msgs.len = 0;
	if (strata__var(type)) {
		uint32_t zero = 0;
		strata__grow(o, &o->offsets, 4 * (n + 1));
		strata__push(o, &o->offsets, &zero, 4, 0);
		strata__grow(o, &o->data, 1); /* so that an empty row has an address */
	} else {
		strata__rows(o, n);
	}
	return o;
}

/* Views of a fixed-width result's values, to fill in (NULL when out of
 * memory or there are no rows). Valid until the next append or emit. */
static inline double *strata_out_doubles(strata_out *o) { return o->oom ? NULL : (double *)o->values.p; }
static inline int64_t *strata_out_int64s(strata_out *o) { return o->oom ? NULL : (int64_t *)o->values.p; }
static inline int32_t *strata_out_int32s(strata_out *o) { return o->oom ? NULL : (int32_t *)o->values.p; }

/* strata_out_set_bool sets row i of a boolean result. */
static inline void strata_out_set_bool(strata_out *o, uint32_t i, bool v) {
	if (o->oom)
		return;
	if (v)
		o->values.p[i >> 3] |= (uint8_t)(1u << (i & 7));
	else
		o->values.p[i >> 3] &= (uint8_t)~(1u << (i & 7));
}

/* strata_out_set_null makes row i NULL. */
static inline void strata_out_set_null(strata_out *o, uint32_t i) {
	if (o->oom)
		return;
	o->validity.p[i >> 3] &= (uint8_t)~(1u << (i & 7));
	o->has_nulls = true;
}

/* strata_out_null_where makes NULL every row that is NULL in c (NULL in,
 * NULL out); c has the result's rows. */
static inline void strata_out_null_where(strata_out *o, const strata_column *c) {
	if (o->oom || c->validity == NULL)
		return;
	for (uint32_t i = 0; i < (o->n + 7) / 8; i++)
		o->validity.p[i] &= c->validity[i];
	o->has_nulls = true;
}

/* strata_out_reserve appends a varchar or bytea row of len bytes and
 * returns them to fill in (NULL when out of memory); valid until the next
 * append. Scalar results append in row order; table results after emit. */
static inline uint8_t *strata_out_reserve(strata_out *o, uint32_t len) {
	uint8_t *dst = strata__push(o, &o->data, NULL, len, 0);
	uint32_t end = o->data.len;
	strata__push(o, &o->offsets, &end, 4, 0);
	strata__rows(o, o->offsets.len / 4 - 1);
	return o->oom ? NULL : dst;
}

/* strata_out_append appends a varchar or bytea row. */
static inline void strata_out_append(strata_out *o, const void *p, uint32_t len) {
	uint8_t *dst = strata_out_reserve(o, len);
	if (dst != NULL && len > 0)
		memcpy(dst, p, len);
}

/* strata_out_append_str appends a NUL-terminated string as a varchar row. */
static inline void strata_out_append_str(strata_out *o, const char *s) { strata_out_append(o, s, (uint32_t)strlen(s)); }

/* strata_out_append_null appends a NULL varchar or bytea row. */
static inline void strata_out_append_null(strata_out *o) {
	strata_out_reserve(o, 0);
	if (o->n > 0)
		strata_out_set_null(o, o->n - 1);
}

/* strata_out_emit starts an output row of a table function, produced by
 * input row parent (non-decreasing). For varchar and bytea, append its
 * value right after; other types get a zero row to set at index n-1. */
static inline void strata_out_emit(strata_out *o, uint32_t parent) {
	strata__push(o, &o->parents, &parent, 4, 0);
	if (!strata__var(o->type))
		strata__rows(o, o->n + 1);
}

/* strata_out_error reports that input row failed with msg (copied). A
 * scalar's row becomes NULL; a table function's row should emit nothing. */
static inline void strata_out_error(strata_out *o, uint32_t row, const char *msg) {
	uint32_t len = (uint32_t)strlen(msg);
	uint32_t at = o->msgs.len;
	strata__push(o, &o->msgs, msg, len, 0);
	strata_error e = {row, (const char *)(uintptr_t)at, len}; /* an offset until finish */
	strata__push(o, &o->errors, &e, sizeof e, 0);
}

/* strata_out_finish returns the result descriptor for the host, or NULL
 * when memory ran out. */
static inline const strata_result *strata_out_finish(strata_out *o) {
	if (o->oom)
		return NULL;
	strata_result *d = &o->desc;
	strata_error *errs = (strata_error *)o->errors.p;
	d->nrows = o->n;
	d->nerrors = o->errors.len / sizeof(strata_error);
	for (uint32_t i = 0; i < d->nerrors; i++)
		errs[i].msg = (const char *)o->msgs.p + (uintptr_t)errs[i].msg;
	d->errors = d->nerrors > 0 ? errs : NULL;
	d->parents = o->parents.len > 0 ? (const uint32_t *)o->parents.p : NULL;
	d->data.type = o->type;
	d->data.len = o->n;
	d->data.null_count = 0;
	d->data.validity = o->has_nulls ? o->validity.p : NULL;
	d->data.offsets = strata__var(o->type) ? (const uint32_t *)o->offsets.p : NULL;
	d->data.values = strata__var(o->type) ? o->data.p : o->values.p;
	d->data.values_len = strata__var(o->type) ? o->data.len : o->values.len;
	d->data.reserved = 0;
	return d;
}

/* ---- Aggregates ---- */

/* An aggregate's state is size bytes of plain data (no pointers), stored
 * by the host as a bytea blob per group; NULL is the initial state init. */

/* strata_step folds row of f into state (accumulate or retract). It
 * returns NULL, or an error message: the row is reported and its
 * contribution dropped. */
typedef const char *(*strata_step)(void *state, const strata_frame *f, uint32_t row);

static inline void strata__load(strata_out *o, const strata_column *c, uint32_t g, const void *init, uint32_t size) {
	if (!strata_is_null(c, g)) {
		strata_bytes b = strata_get_bytes(c, g);
		if (b.len == size) {
			strata_out_append(o, b.ptr, size);
			return;
		}
	}
	strata_out_append(o, init, size);
}

/* strata_fold runs NAME_accumulate or NAME_retract. */
static inline const strata_result *strata_fold(const strata_frame *f, const void *init, uint32_t size, strata_step step) {
	strata_out *o = strata_out_start(STRATA_BYTEA, f->ngroups);
	for (uint32_t g = 0; g < f->ngroups; g++)
		strata__load(o, &f->states, g, init, size);
	o->scratch.len = 0;
	uint8_t *saved = strata__push(o, &o->scratch, NULL, size, 0);
	for (uint32_t row = 0; row < f->nrows && !o->oom; row++) {
		uint8_t *s = o->data.p + (size_t)f->groups[row] * size;
		memcpy(saved, s, size);
		const char *err = step(s, f, row);
		if (err != NULL) {
			memcpy(s, saved, size);
			strata_out_error(o, row, err);
		}
	}
	return strata_out_finish(o);
}

/* strata_merge runs NAME_merge: combine folds b into a. */
static inline const strata_result *strata_merge(const strata_frame *f, const void *init, uint32_t size,
                                                void (*combine)(void *a, const void *b)) {
	strata_out *o = strata_out_start(STRATA_BYTEA, f->ngroups);
	o->scratch.len = 0;
	uint8_t *b = strata__push(o, &o->scratch, NULL, size, 0);
	for (uint32_t g = 0; g < f->ngroups && !o->oom; g++) {
		strata__load(o, &f->states, g, init, size);
		strata_bytes s2 = {NULL, 0};
		if (!strata_is_null(&f->states2, g))
			s2 = strata_get_bytes(&f->states2, g);
		memcpy(b, s2.len == size ? s2.ptr : init, size);
		if (!o->oom)
			combine(o->data.p + (size_t)g * size, b);
	}
	return strata_out_finish(o);
}

/* strata_final writes group g's value from state into o, started with
 * type and ngroups rows: set row g's value or strata_out_set_null(o, g);
 * for varchar and bytea, append one row per group instead. */
typedef void (*strata_final)(const void *state, strata_out *o, uint32_t g);

/* strata_finish runs NAME_finish. */
static inline const strata_result *strata_finish(const strata_frame *f, const void *init, uint32_t size, uint32_t type,
                                                 strata_final final) {
	strata_out *o = strata_out_start(type, f->ngroups);
	o->scratch.len = 0;
	uint8_t *s = strata__push(o, &o->scratch, NULL, size, 0);
	for (uint32_t g = 0; g < f->ngroups && !o->oom; g++) {
		strata_bytes b = {NULL, 0};
		if (!strata_is_null(&f->states, g))
			b = strata_get_bytes(&f->states, g);
		memcpy(s, b.len == size ? b.ptr : init, size);
		final(s, o, g);
	}
	return strata_out_finish(o);
}

#endif /* STRATA_H */
