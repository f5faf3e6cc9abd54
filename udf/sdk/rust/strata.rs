//! The Rust SDK for Strata UDFs (ABI v1, docs/udf-abi.md).
//!
//! No Cargo and no dependencies: `strata udf build` compiles this file as
//! the rlib `strata` and the project's `lib.rs` as a cdylib against it:
//!
//! ```text
//! rustc --edition 2021 --target wasm32-unknown-unknown -O -C panic=abort \
//!     --crate-type rlib --crate-name strata strata.rs
//! rustc ... --crate-type cdylib --extern strata=libstrata.rlib lib.rs
//! ```
//!
//! Each function is a `#[no_mangle] pub extern "C" fn NAME(f: &Frame) ->
//! Output` that reads its arguments from the frame and builds its result
//! with [`output`]; aggregates export `NAME_accumulate`, `NAME_retract`,
//! `NAME_merge` and `NAME_finish`, for which [`fold`], [`merge`] and
//! [`finish`] do the state bookkeeping.
//!
//! Argument columns are views of host-written memory, valid during the
//! call. The result is SDK-owned memory that the next call reuses: the host
//! copies it out before calling again. A module is single-threaded. The
//! crate is `no_std` (it needs `alloc` only); a cdylib that uses `std` gets
//! its allocator and panic handler from there. A panic (with `panic=abort`)
//! traps, and the host fails the batch.
#![no_std]

extern crate alloc;

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::alloc::Layout;
use core::fmt::{Display, Write};
use core::mem::size_of;
use core::slice;

/// Type codes of ABI v1.
pub const BOOLEAN: u32 = 1;
pub const INT32: u32 = 2;
pub const INT64: u32 = 3;
pub const DOUBLE: u32 = 4;
pub const VARCHAR: u32 = 5;
pub const BYTEA: u32 = 6;
/// Timestamps are int64 microseconds since 1970-01-01 UTC.
pub const TIMESTAMP: u32 = 7;

/// Gives the host a region of guest memory: 8-aligned, 0 when out of memory.
#[no_mangle]
pub extern "C" fn strata_alloc(size: u32) -> *mut u8 {
    match Layout::from_size_align(size.max(1) as usize, 8) {
        Ok(l) => unsafe { alloc::alloc::alloc(l) },
        Err(_) => core::ptr::null_mut(),
    }
}

/// Returns a region that [`strata_alloc`] gave.
///
/// # Safety
///
/// `ptr` and `size` must be a region `strata_alloc(size)` returned.
#[no_mangle]
pub unsafe extern "C" fn strata_free(ptr: *mut u8, size: u32) {
    if !ptr.is_null() {
        alloc::alloc::dealloc(ptr, Layout::from_size_align_unchecked(size.max(1) as usize, 8));
    }
}

/// An Arrow column in guest memory (32 bytes).
#[repr(C)]
pub struct Column {
    typ: u32,
    len: u32,
    null_count: u32,
    validity: *const u8,
    offsets: *const u32,
    values: *const u8,
    values_len: u32,
    reserved: u32,
}

/// The input of one call (a 96-byte header, then the argument columns).
/// Exported functions take it by reference.
#[repr(C)]
pub struct Frame {
    abi: u32,
    nrows: u32,
    nargs: u32,
    ngroups: u32,
    groups: *const u32,
    reserved: [u32; 3],
    states: Column,
    states2: Column,
    args: [Column; 0],
}

#[repr(C)]
struct ErrorEntry {
    row: u32,
    msg: *const u8,
    len: u32,
}

/// The result descriptor (48 bytes).
#[repr(C)]
pub struct Descriptor {
    nrows: u32,
    nerrors: u32,
    errors: *const ErrorEntry,
    parents: *const u32,
    data: Column,
}

const _: () = assert!(size_of::<Column>() == 32 && size_of::<Frame>() == 96);
const _: () = assert!(size_of::<Descriptor>() == 48 && size_of::<ErrorEntry>() == 12);

/// What an exported function returns: the result descriptor for the host.
#[repr(transparent)]
pub struct Output(*const Descriptor);

unsafe fn view<'a, T>(p: *const T, n: usize) -> &'a [T] {
    if n == 0 {
        &[]
    } else {
        slice::from_raw_parts(p, n)
    }
}

impl Frame {
    /// The number of input rows.
    pub fn rows(&self) -> usize {
        self.nrows as usize
    }

    /// The number of argument columns.
    pub fn num_args(&self) -> usize {
        self.nargs as usize
    }

    /// Argument column `i`.
    pub fn arg(&self, i: usize) -> &Column {
        assert!(i < self.num_args(), "strata: argument index out of range");
        // The host lays the argument columns out right after the header.
        unsafe { &*self.args.as_ptr().add(i) }
    }

    /// The number of aggregate states.
    pub fn num_groups(&self) -> usize {
        self.ngroups as usize
    }

    /// The state index of each row (aggregates).
    pub fn groups(&self) -> &[u32] {
        unsafe { view(self.groups, if self.groups.is_null() { 0 } else { self.rows() }) }
    }

    /// The aggregate states (bytea, NULL = the initial state).
    pub fn states(&self) -> &Column {
        &self.states
    }

    /// The second operand of a merge.
    pub fn states2(&self) -> &Column {
        &self.states2
    }
}

impl Column {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The Arrow validity bitmap, `None` when no row is NULL.
    pub fn validity(&self) -> Option<&[u8]> {
        if self.validity.is_null() {
            None
        } else {
            Some(unsafe { view(self.validity, (self.len() + 7) / 8) })
        }
    }

    /// Whether row `i` is NULL.
    pub fn is_null(&self, i: usize) -> bool {
        assert!(i < self.len(), "strata: row out of range");
        !self.validity.is_null() && unsafe { *self.validity.add(i / 8) } >> (i % 8) & 1 == 0
    }

    fn fixed<T>(&self, width: usize) -> &[T] {
        assert!(self.values_len as usize >= self.len() * width, "strata: not a fixed-width column of that type");
        unsafe { view(self.values as *const T, self.len()) }
    }

    /// A double column's values (a NULL row's value is unspecified).
    pub fn f64s(&self) -> &[f64] {
        self.fixed(8)
    }

    /// A bigint or timestamp column's values.
    pub fn i64s(&self) -> &[i64] {
        self.fixed(8)
    }

    /// An integer column's values.
    pub fn i32s(&self) -> &[i32] {
        self.fixed(4)
    }

    /// Row `i` of a boolean column.
    pub fn bool(&self, i: usize) -> bool {
        assert!(i < self.len(), "strata: row out of range");
        unsafe { *self.values.add(i / 8) >> (i % 8) & 1 == 1 }
    }

    /// Row `i` of a varchar or bytea column.
    pub fn bytes(&self, i: usize) -> &[u8] {
        assert!(i < self.len() && !self.offsets.is_null(), "strata: row out of range or not a varchar/bytea column");
        unsafe {
            let (lo, hi) = (*self.offsets.add(i) as usize, *self.offsets.add(i + 1) as usize);
            view(self.values.add(lo), hi - lo)
        }
    }

    /// Row `i` of a varchar column. The host passes Arrow strings, which
    /// are UTF-8; anything else panics.
    pub fn str(&self, i: usize) -> &str {
        core::str::from_utf8(self.bytes(i)).expect("strata: varchar argument is not UTF-8")
    }
}

/// The result under construction, reused call after call.
pub struct Out {
    typ: u32,
    n: usize,
    has_nulls: bool,
    validity: Vec<u8>,
    fixed: Vec<u64>, // fixed-width values, 8-aligned
    bits: Vec<u8>,   // boolean values
    offsets: Vec<u32>,
    data: Vec<u8>,
    parents: Vec<u32>,
    errors: Vec<(u32, u32, u32)>, // row, message offset, message length
    msgs: Vec<u8>,
    entries: Vec<ErrorEntry>,
    desc: Descriptor,
}

const NO_COLUMN: Column = Column {
    typ: 0,
    len: 0,
    null_count: 0,
    validity: core::ptr::null(),
    offsets: core::ptr::null(),
    values: core::ptr::null(),
    values_len: 0,
    reserved: 0,
};

static mut OUT: Out = Out {
    typ: 0,
    n: 0,
    has_nulls: false,
    validity: Vec::new(),
    fixed: Vec::new(),
    bits: Vec::new(),
    offsets: Vec::new(),
    data: Vec::new(),
    parents: Vec::new(),
    errors: Vec::new(),
    msgs: Vec::new(),
    entries: Vec::new(),
    desc: Descriptor { nrows: 0, nerrors: 0, errors: core::ptr::null(), parents: core::ptr::null(), data: NO_COLUMN },
};

static mut BUSY: bool = false;

fn is_var(typ: u32) -> bool {
    typ == VARCHAR || typ == BYTEA
}

/// Builds the result of this call: `n` rows of type `typ`, filled in by
/// `fill`. For fixed-width types the `n` rows exist at once (zero, valid);
/// for varchar and bytea, and for table functions, `fill` appends rows and
/// `n` is only a capacity hint.
pub fn output(typ: u32, n: usize, fill: impl FnOnce(&mut Out)) -> Output {
    // One builder per module: refuse nested calls rather than alias it.
    unsafe {
        assert!(!BUSY, "strata: output called inside output");
        BUSY = true;
        let out = &mut *core::ptr::addr_of_mut!(OUT);
        out.start(typ, n);
        fill(out);
        let d = out.finish();
        BUSY = false;
        Output(d)
    }
}

impl Out {
    fn start(&mut self, typ: u32, n: usize) {
        self.typ = typ;
        self.n = 0;
        self.has_nulls = false;
        self.validity.clear();
        self.fixed.clear();
        self.bits.clear();
        self.offsets.clear();
        self.data.clear();
        self.parents.clear();
        self.errors.clear();
        self.msgs.clear();
        if is_var(typ) {
            self.offsets.reserve(n + 1);
            self.offsets.push(0);
        } else {
            self.resize(n);
        }
    }

    // resize makes the result n rows long: new rows are valid and zero.
    fn resize(&mut self, n: usize) {
        self.validity.resize((n + 7) / 8, 0xff);
        match self.typ {
            BOOLEAN => self.bits.resize((n + 7) / 8, 0),
            INT32 => self.fixed.resize((n + 1) / 2, 0),
            t if !is_var(t) => self.fixed.resize(n, 0),
            _ => {}
        }
        self.n = n;
    }

    /// The number of rows so far.
    pub fn rows(&self) -> usize {
        self.n
    }

    fn fixed_mut<T>(&mut self, width: usize) -> &mut [T] {
        assert!(self.fixed.len() * 8 >= self.n * width, "strata: not a fixed-width result of that type");
        unsafe { slice::from_raw_parts_mut(self.fixed.as_mut_ptr() as *mut T, self.n) }
    }

    /// A double result's values, to fill in.
    pub fn f64s(&mut self) -> &mut [f64] {
        self.fixed_mut(8)
    }

    /// A bigint or timestamp result's values.
    pub fn i64s(&mut self) -> &mut [i64] {
        self.fixed_mut(8)
    }

    /// An integer result's values.
    pub fn i32s(&mut self) -> &mut [i32] {
        self.fixed_mut(4)
    }

    /// Sets row `i` of a boolean result.
    pub fn set_bool(&mut self, i: usize, v: bool) {
        let bit = 1u8 << (i % 8);
        if v {
            self.bits[i / 8] |= bit
        } else {
            self.bits[i / 8] &= !bit
        }
    }

    /// Makes row `i` NULL.
    pub fn set_null(&mut self, i: usize) {
        assert!(i < self.n, "strata: row out of range");
        self.validity[i / 8] &= !(1u8 << (i % 8));
        self.has_nulls = true;
    }

    /// Makes NULL every row that is NULL in `c` (NULL in, NULL out); `c`
    /// has the result's rows.
    pub fn null_where(&mut self, c: &Column) {
        if let Some(v) = c.validity() {
            for (a, b) in self.validity.iter_mut().zip(v) {
                *a &= b;
            }
            self.has_nulls = true;
        }
    }

    fn end_row(&mut self) {
        self.offsets.push(self.data.len() as u32);
        self.resize(self.offsets.len() - 1);
    }

    /// Appends a varchar or bytea row (scalars: in row order; table
    /// functions: after [`Out::emit`]).
    pub fn push_bytes(&mut self, b: &[u8]) {
        self.data.extend_from_slice(b);
        self.end_row();
    }

    /// Appends a varchar row.
    pub fn push_str(&mut self, s: &str) {
        self.push_bytes(s.as_bytes())
    }

    /// Appends a varchar or bytea row made of the bytes of `it`. A varchar
    /// must be UTF-8: the host checks.
    pub fn push_from(&mut self, it: impl IntoIterator<Item = u8>) {
        self.data.extend(it);
        self.end_row();
    }

    /// Appends a NULL varchar or bytea row.
    pub fn push_null(&mut self) {
        self.end_row();
        self.set_null(self.n - 1);
    }

    /// Starts an output row of a table function, produced by input row
    /// `parent` (non-decreasing). For varchar and bytea, push its value
    /// right after; other types get a zero row to set at `rows() - 1`.
    pub fn emit(&mut self, parent: usize) {
        self.parents.push(parent as u32);
        if !is_var(self.typ) {
            self.resize(self.n + 1);
        }
    }

    /// Reports that input row `row` failed with `msg`. A scalar's row
    /// becomes NULL; a table function's row should emit nothing.
    pub fn error(&mut self, row: usize, msg: impl Display) {
        let at = self.msgs.len();
        let _ = write!(ByteWriter(&mut self.msgs), "{}", msg);
        self.errors.push((row as u32, at as u32, (self.msgs.len() - at) as u32));
    }

    fn finish(&mut self) -> *const Descriptor {
        self.entries.clear();
        for &(row, at, len) in &self.errors {
            self.entries.push(ErrorEntry { row, msg: self.msgs[at as usize..].as_ptr(), len });
        }
        let (offsets, values, values_len) = match self.typ {
            t if is_var(t) => (self.offsets.as_ptr(), self.data.as_ptr(), self.data.len()),
            BOOLEAN => (core::ptr::null(), self.bits.as_ptr(), self.bits.len()),
            INT32 => (core::ptr::null(), self.fixed.as_ptr() as *const u8, self.n * 4),
            _ => (core::ptr::null(), self.fixed.as_ptr() as *const u8, self.n * 8),
        };
        self.desc = Descriptor {
            nrows: self.n as u32,
            nerrors: self.entries.len() as u32,
            errors: self.entries.as_ptr(),
            parents: self.parents.as_ptr(),
            data: Column {
                typ: self.typ,
                len: self.n as u32,
                null_count: 0,
                validity: if self.has_nulls { self.validity.as_ptr() } else { core::ptr::null() },
                offsets,
                values,
                values_len: values_len as u32,
                reserved: 0,
            },
        };
        &self.desc
    }
}

struct ByteWriter<'a>(&'a mut Vec<u8>);

impl Write for ByteWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// An aggregate's state: plain data whose bytes are the state blob.
///
/// # Safety
///
/// Implement it only for `#[repr(C)]` types made of numbers and arrays of
/// them, with no padding, pointers or references: every bit pattern of
/// `size_of::<Self>()` bytes must be a valid value.
pub unsafe trait State: Copy + 'static {}

fn load<S: State>(c: &Column, g: usize, init: S) -> S {
    if c.is_null(g) {
        return init;
    }
    let b = c.bytes(g);
    if b.len() != size_of::<S>() {
        return init;
    }
    unsafe { core::ptr::read_unaligned(b.as_ptr() as *const S) }
}

fn states_output<S: State>(states: &[S], errors: &[(usize, String)]) -> Output {
    output(BYTEA, states.len(), |out| {
        for s in states {
            out.push_bytes(unsafe { slice::from_raw_parts(s as *const S as *const u8, size_of::<S>()) });
        }
        for (row, msg) in errors {
            out.error(*row, msg);
        }
    })
}

/// Runs an aggregate's accumulate or retract: `step` folds row `row` of
/// the frame into its group's state. A NULL state starts as `init`.
pub fn fold<S: State>(f: &Frame, init: S, mut step: impl FnMut(&mut S, &Frame, usize)) -> Output {
    let st = f.states();
    let mut states: Vec<S> = (0..f.num_groups()).map(|g| load(st, g, init)).collect();
    for (row, &g) in f.groups().iter().enumerate() {
        step(&mut states[g as usize], f, row);
    }
    states_output(&states, &[])
}

/// Like [`fold`], but `step` may fail: the row is reported with the error
/// and its contribution dropped.
pub fn try_fold<S: State, E: Display>(
    f: &Frame,
    init: S,
    mut step: impl FnMut(&mut S, &Frame, usize) -> Result<(), E>,
) -> Output {
    let st = f.states();
    let mut states: Vec<S> = (0..f.num_groups()).map(|g| load(st, g, init)).collect();
    let mut errors = Vec::new();
    for (row, &g) in f.groups().iter().enumerate() {
        let s = &mut states[g as usize];
        let saved = *s;
        if let Err(e) = step(s, f, row) {
            *s = saved;
            errors.push((row, e.to_string()));
        }
    }
    states_output(&states, &errors)
}

/// Runs an aggregate's merge: `combine` folds `b` into `a`.
pub fn merge<S: State>(f: &Frame, init: S, mut combine: impl FnMut(&mut S, &S)) -> Output {
    let states: Vec<S> = (0..f.num_groups())
        .map(|g| {
            let mut a = load(f.states(), g, init);
            combine(&mut a, &load(f.states2(), g, init));
            a
        })
        .collect();
    states_output(&states, &[])
}

/// Runs an aggregate's finish: `finalize` writes group `g`'s value into
/// `out`, started with `typ` and one row per group (for varchar and bytea,
/// push one row per group instead).
pub fn finish<S: State>(f: &Frame, init: S, typ: u32, mut finalize: impl FnMut(&S, &mut Out, usize)) -> Output {
    output(typ, f.num_groups(), |out| {
        for g in 0..f.num_groups() {
            finalize(&load(f.states(), g, init), out, g);
        }
    })
}
