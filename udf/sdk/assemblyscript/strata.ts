// The AssemblyScript SDK for Strata UDFs (ABI v1, docs/udf-abi.md).
//
// `strata udf build` (scripts/asc.sh installs the compiler) copies this
// file next to the project's index.ts and runs
//
//   asc index.ts -O3 --runtime incremental --noAssert --use abort=strata/abort -o fn.wasm
//
// index.ts re-exports the allocator and exports each function under its
// manifest name as (frame: i32): i32:
//
//   export { strata_alloc, strata_free } from "./strata";
//   export function double_it(frame: i32): i32 { ... }
//
// Aggregates export NAME_accumulate, NAME_retract, NAME_merge and
// NAME_finish, for which fold, merge and finish do the state bookkeeping.
//
// Argument columns are views of host-written memory, valid during the
// call. The result is SDK-owned memory that the next call reuses: the host
// copies it out before calling again. All of it is unmanaged (heap.*), so
// the garbage collector never sees it. A module is single-threaded.

// Type codes of ABI v1.
export const BOOLEAN: u32 = 1;
export const INT32: u32 = 2;
export const INT64: u32 = 3;
export const DOUBLE: u32 = 4;
export const VARCHAR: u32 = 5;
export const BYTEA: u32 = 6;
export const TIMESTAMP: u32 = 7; // int64 microseconds since 1970-01-01 UTC

/** Gives the host a region of guest memory (16-aligned). */
export function strata_alloc(size: i32): i32 {
  return <i32>heap.alloc(<usize>size);
}

/** Returns a region strata_alloc gave. */
export function strata_free(ptr: i32, size: i32): void {
  heap.free(<usize>ptr);
}

@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLen: u32, written: usize): u16;

const ABORT_BUF: usize = memory.data(1024);
let abortLen: usize = 0;

function abortPut(s: string | null): void {
  if (s === null) return;
  for (let i = 0; i < s.length && abortLen < 1000; i++) {
    const c = s.charCodeAt(i);
    store<u8>(ABORT_BUF + abortLen++, c < 0x80 ? <u8>c : 0x3f); // '?'
  }
}

function abortPutNumber(n: u32): void {
  let div: u32 = 1000000000;
  let started = false;
  for (; div > 0; div /= 10) {
    const d = (n / div) % 10;
    if (d != 0 || started || div == 1) {
      store<u8>(ABORT_BUF + abortLen++, <u8>(0x30 + d));
      started = true;
    }
  }
}

/**
 * The module's abort (build with --use abort=strata/abort): a throw, a
 * failed bounds check or running out of memory writes its message to
 * stderr, which the host adds to the call's error, and traps. It allocates
 * nothing.
 */
export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  abortLen = 0;
  abortPut("abort: ");
  abortPut(message);
  if (fileName !== null) {
    abortPut(" at ");
    abortPut(fileName);
    abortPut(":");
    abortPutNumber(line);
    abortPut(":");
    abortPutNumber(column);
  }
  abortPut("\n");
  const iov = ABORT_BUF + 1016; // one iovec {buf, len} past the message
  store<u32>(iov, <u32>ABORT_BUF);
  store<u32>(iov, <u32>abortLen, 4);
  fd_write(2, iov, 1, ABORT_BUF + 1012);
  unreachable();
}

/** An Arrow column in guest memory (a 32-byte descriptor). */
@unmanaged
export class Column {
  /** The ABI type code. */
  get type(): u32 {
    return load<u32>(changetype<usize>(this));
  }

  /** The number of rows. */
  get length(): i32 {
    return load<i32>(changetype<usize>(this), 4);
  }

  /** The Arrow validity bitmap, 0 when no row is NULL. */
  get validity(): usize {
    return load<u32>(changetype<usize>(this), 12);
  }

  /** The values buffer (varchar and bytea: the bytes the offsets index). */
  get values(): usize {
    return load<u32>(changetype<usize>(this), 20);
  }

  /** Whether row i is NULL. */
  isNull(i: i32): bool {
    const v = this.validity;
    return v != 0 && ((load<u8>(v + (<usize>i >> 3)) >> (i & 7)) & 1) == 0;
  }

  /** Row i of a double column (a NULL row's value is unspecified). */
  f64(i: i32): f64 {
    return load<f64>(this.values + (<usize>i << 3));
  }

  /** Row i of a bigint or timestamp column. */
  i64(i: i32): i64 {
    return load<i64>(this.values + (<usize>i << 3));
  }

  /** Row i of an integer column. */
  i32(i: i32): i32 {
    return load<i32>(this.values + (<usize>i << 2));
  }

  /** Row i of a boolean column. */
  bool(i: i32): bool {
    return ((load<u8>(this.values + (<usize>i >> 3)) >> (i & 7)) & 1) != 0;
  }

  /** Where row i of a varchar or bytea column starts (see valueLen). */
  valuePtr(i: i32): usize {
    const offsets = <usize>load<u32>(changetype<usize>(this), 16);
    return this.values + <usize>load<u32>(offsets + (<usize>i << 2));
  }

  /** The byte length of row i of a varchar or bytea column. */
  valueLen(i: i32): i32 {
    const p = <usize>load<u32>(changetype<usize>(this), 16) + (<usize>i << 2);
    return load<i32>(p, 4) - load<i32>(p);
  }

  /** Row i of a varchar column as a string (decoded from UTF-8: a copy). */
  string(i: i32): string {
    return String.UTF8.decodeUnsafe(this.valuePtr(i), <usize>this.valueLen(i));
  }
}

/** The input of one call: a 96-byte header, then the argument columns. */
@unmanaged
export class Frame {
  /** The number of input rows. */
  get rows(): i32 {
    return load<i32>(changetype<usize>(this), 4);
  }

  /** The number of argument columns. */
  get numArgs(): i32 {
    return load<i32>(changetype<usize>(this), 8);
  }

  /** The number of aggregate states. */
  get numGroups(): i32 {
    return load<i32>(changetype<usize>(this), 12);
  }

  /** Argument column i. */
  arg(i: i32): Column {
    if (<u32>i >= <u32>this.numArgs) throw new Error("strata: argument index out of range");
    return changetype<Column>(changetype<usize>(this) + 96 + (<usize>i << 5));
  }

  /** The state index of input row i (aggregates). */
  group(i: i32): i32 {
    return load<i32>(<usize>load<u32>(changetype<usize>(this), 16) + (<usize>i << 2));
  }

  /** The aggregate states (bytea, NULL = the initial state). */
  get states(): Column {
    return changetype<Column>(changetype<usize>(this) + 32);
  }

  /** The second operand of a merge. */
  get states2(): Column {
    return changetype<Column>(changetype<usize>(this) + 64);
  }
}

/** Views the frame the host passed to an exported function. */
export function input(frame: i32): Frame {
  return changetype<Frame>(<usize>frame);
}

/** A growable unmanaged byte buffer. */
class Buf {
  ptr: usize = 0;
  len: usize = 0;
  cap: usize = 0;

  /** Appends n bytes and returns where they start (valid until the next push). */
  push(n: usize): usize {
    const need = this.len + n;
    if (need > this.cap) {
      let cap = this.cap < 64 ? <usize>64 : this.cap;
      while (cap < need) cap <<= 1;
      this.ptr = this.ptr == 0 ? heap.alloc(cap) : heap.realloc(this.ptr, cap);
      this.cap = cap;
    }
    const at = this.ptr + this.len;
    this.len = need;
    return at;
  }

  pushU32(v: u32): void {
    store<u32>(this.push(4), v);
  }

  /** Grows the buffer to n bytes, filling the new bytes with fill. */
  fill(n: usize, fill: u8): void {
    if (n > this.len) {
      const old = this.len;
      memory.fill(this.push(n - old), fill, n - old);
    }
  }
}

function isVar(type: u32): bool {
  return type == VARCHAR || type == BYTEA;
}

function width(type: u32): usize {
  return type == INT32 ? 4 : 8;
}

/** The result under construction; output() starts it. */
export class Out {
  type: u32 = 0;
  rows: i32 = 0;
  private hasNulls: bool = false;
  private validity: Buf = new Buf();
  private values: Buf = new Buf(); // fixed-width values, or boolean bits
  private offsets: Buf = new Buf();
  private data: Buf = new Buf();
  private parents: Buf = new Buf();
  private errors: Buf = new Buf();
  private msgs: Buf = new Buf();
  private desc: usize = heap.alloc(48);

  start(type: u32, n: i32): Out {
    this.type = type;
    this.rows = 0;
    this.hasNulls = false;
    this.validity.len = this.values.len = this.offsets.len = this.data.len = 0;
    this.parents.len = this.errors.len = this.msgs.len = 0;
    if (isVar(type)) this.offsets.pushU32(0);
    else this.resize(n);
    return this;
  }

  // resize makes the result n rows long: new rows are valid and zero.
  private resize(n: i32): void {
    const bitmap = (<usize>n + 7) >> 3;
    this.validity.fill(bitmap, 0xff);
    if (this.type == BOOLEAN) this.values.fill(bitmap, 0);
    else if (!isVar(this.type)) this.values.fill(<usize>n * width(this.type), 0);
    this.rows = n;
  }

  private check(i: i32): void {
    if (<u32>i >= <u32>this.rows) throw new Error("strata: result row out of range");
  }

  /** Sets row i of a double result. */
  setF64(i: i32, v: f64): void {
    this.check(i);
    store<f64>(this.values.ptr + (<usize>i << 3), v);
  }

  /** Sets row i of a bigint or timestamp result. */
  setI64(i: i32, v: i64): void {
    this.check(i);
    store<i64>(this.values.ptr + (<usize>i << 3), v);
  }

  /** Sets row i of an integer result. */
  setI32(i: i32, v: i32): void {
    this.check(i);
    store<i32>(this.values.ptr + (<usize>i << 2), v);
  }

  /** Sets row i of a boolean result. */
  setBool(i: i32, v: bool): void {
    this.check(i);
    const p = this.values.ptr + (<usize>i >> 3);
    const bit = 1 << (i & 7);
    store<u8>(p, <u8>(v ? <i32>load<u8>(p) | bit : <i32>load<u8>(p) & ~bit));
  }

  /** Makes row i NULL. */
  setNull(i: i32): void {
    this.check(i);
    const p = this.validity.ptr + (<usize>i >> 3);
    store<u8>(p, <u8>(<i32>load<u8>(p) & ~(1 << (i & 7))));
    this.hasNulls = true;
  }

  /** Makes NULL every row that is NULL in c (NULL in, NULL out); c has the result's rows. */
  nullWhere(c: Column): void {
    const v = c.validity;
    if (v == 0) return;
    const n = this.validity.len;
    for (let i: usize = 0; i < n; i++) {
      store<u8>(this.validity.ptr + i, load<u8>(this.validity.ptr + i) & load<u8>(v + i));
    }
    this.hasNulls = true;
  }

  /**
   * Appends a varchar or bytea row of len bytes and returns where to write
   * them (valid until the next append). Scalars append in row order; table
   * functions after emit. A varchar must be UTF-8: the host checks.
   */
  reserve(len: i32): usize {
    const p = this.data.push(<usize>len);
    this.offsets.pushU32(<u32>this.data.len);
    this.resize(this.rows + 1);
    return p;
  }

  /** Appends a varchar or bytea row copied from ptr. */
  pushBytes(ptr: usize, len: i32): void {
    memory.copy(this.reserve(len), ptr, <usize>len);
  }

  /** Appends a varchar row. */
  pushString(s: string): void {
    const len = String.UTF8.byteLength(s);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.reserve(len));
  }

  /** Appends a NULL varchar or bytea row. */
  pushNull(): void {
    this.reserve(0);
    this.setNull(this.rows - 1);
  }

  /**
   * Starts an output row of a table function, produced by input row parent
   * (non-decreasing). For varchar and bytea, append its value right after;
   * other types get a zero row to set at rows - 1.
   */
  emit(parent: i32): void {
    this.parents.pushU32(<u32>parent);
    if (!isVar(this.type)) this.resize(this.rows + 1);
  }

  /** Reports that input row failed with msg. A scalar's row becomes NULL; a table function's row should emit nothing. */
  error(row: i32, msg: string): void {
    const len = String.UTF8.byteLength(msg);
    const at = this.msgs.len;
    String.UTF8.encodeUnsafe(changetype<usize>(msg), msg.length, this.msgs.push(len));
    const e = this.errors.push(12);
    store<u32>(e, <u32>row);
    store<u32>(e, <u32>at, 4); // an offset until finish
    store<u32>(e, <u32>len, 8);
  }

  /** Where the varchar or bytea bytes appended so far start (valid until the next append). */
  dataPtr(): usize {
    return this.data.ptr;
  }

  /** Returns the result descriptor for the host. */
  finish(): i32 {
    const nerr = this.errors.len / 12;
    for (let i: usize = 0; i < nerr; i++) {
      const e = this.errors.ptr + i * 12;
      store<u32>(e, <u32>(this.msgs.ptr + <usize>load<u32>(e, 4)), 4);
    }
    const d = this.desc;
    const v = isVar(this.type);
    store<u32>(d, <u32>this.rows);
    store<u32>(d, <u32>nerr, 4);
    store<u32>(d, <u32>this.errors.ptr, 8);
    store<u32>(d, <u32>this.parents.ptr, 12);
    store<u32>(d, this.type, 16);
    store<u32>(d, <u32>this.rows, 20);
    store<u32>(d, 0, 24);
    store<u32>(d, this.hasNulls ? <u32>this.validity.ptr : 0, 28);
    store<u32>(d, v ? <u32>this.offsets.ptr : 0, 32);
    store<u32>(d, <u32>(v ? this.data.ptr : this.values.ptr), 36);
    store<u32>(d, <u32>(v ? this.data.len : this.values.len), 40);
    store<u32>(d, 0, 44);
    return <i32>d;
  }
}

const out = new Out();

/**
 * Starts the result of this call: n rows of type. For fixed-width types the
 * n rows exist at once (zero, valid); for varchar and bytea, and for table
 * functions, rows are appended (pass 0). There is one result per module,
 * reused call after call.
 */
export function output(type: u32, n: i32): Out {
  return out.start(type, n);
}

// Aggregates. A state is an @unmanaged class of plain fields (numbers),
// viewed in place: its bytes, offsetof<S>() of them, are the state blob. A
// NULL state is all zero bytes, then init (if given) runs on it.

const scratch = new Buf();

// loadState copies state g of c, or the initial state, to p.
function loadState<S>(c: Column, g: i32, p: usize, init: ((s: S) => void) | null): void {
  const size = offsetof<S>();
  if (!c.isNull(g) && <usize>c.valueLen(g) == size) {
    memory.copy(p, c.valuePtr(g), size);
    return;
  }
  memory.fill(p, 0, size);
  if (init !== null) init(changetype<S>(p));
}

// states starts a bytea result holding the frame's states, one per group,
// and returns where the first one is (they are offsetof<S>() bytes apart).
function states<S>(f: Frame, init: ((s: S) => void) | null): usize {
  const size = <i32>offsetof<S>();
  const r = output(BYTEA, 0);
  for (let g = 0; g < f.numGroups; g++) r.reserve(size);
  const base = r.dataPtr();
  for (let g = 0; g < f.numGroups; g++) loadState<S>(f.states, g, base + <usize>(g * size), init);
  return base;
}

/**
 * Runs an aggregate's accumulate or retract: step folds input row row of
 * the frame into its group's state s.
 */
export function fold<S>(frame: i32, step: (s: S, f: Frame, row: i32) => void, init: ((s: S) => void) | null = null): i32 {
  const f = input(frame);
  const size = offsetof<S>();
  const base = states<S>(f, init);
  for (let row = 0; row < f.rows; row++) step(changetype<S>(base + <usize>f.group(row) * size), f, row);
  return out.finish();
}

/**
 * Like fold, but step may fail by returning a message (null: success): the
 * row is reported and its contribution dropped.
 */
export function tryFold<S>(frame: i32, step: (s: S, f: Frame, row: i32) => string | null, init: ((s: S) => void) | null = null): i32 {
  const f = input(frame);
  const size = offsetof<S>();
  const base = states<S>(f, init);
  scratch.len = 0;
  const saved = scratch.push(size);
  for (let row = 0; row < f.rows; row++) {
    const s = base + <usize>f.group(row) * size;
    memory.copy(saved, s, size);
    const err = step(changetype<S>(s), f, row);
    if (err !== null) {
      memory.copy(s, saved, size);
      out.error(row, err);
    }
  }
  return out.finish();
}

/** Runs an aggregate's merge: combine folds b into a. */
export function merge<S>(frame: i32, combine: (a: S, b: S) => void, init: ((s: S) => void) | null = null): i32 {
  const f = input(frame);
  const size = offsetof<S>();
  const base = states<S>(f, init);
  scratch.len = 0;
  const b = scratch.push(size);
  for (let g = 0; g < f.numGroups; g++) {
    loadState<S>(f.states2, g, b, init);
    combine(changetype<S>(base + <usize>g * size), changetype<S>(b));
  }
  return out.finish();
}

/**
 * Runs an aggregate's finish: final writes group g's value from state s
 * into r, started with type and one row per group (for varchar and bytea,
 * append one row per group instead).
 */
export function finish<S>(frame: i32, type: u32, final: (s: S, r: Out, g: i32) => void, init: ((s: S) => void) | null = null): i32 {
  const f = input(frame);
  const size = offsetof<S>();
  scratch.len = 0;
  const s = scratch.push(size);
  const r = output(type, isVar(type) ? 0 : f.numGroups);
  for (let g = 0; g < f.numGroups; g++) {
    loadState<S>(f.states, g, s, init);
    final(changetype<S>(s), r, g);
  }
  return r.finish();
}
