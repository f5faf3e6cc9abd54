//! demo is the worked example of the Rust SDK: a numeric scalar
//! (double_it), a string scalar (shout), a table function (words) and a
//! retractable aggregate (mean). Its manifest is strata.json.

use strata::{Frame, Out, Output, DOUBLE, VARCHAR};

/// double_it(x double) -> double: 2x, NULL for NULL.
#[no_mangle]
pub extern "C" fn double_it(f: &Frame) -> Output {
    let x = f.arg(0);
    strata::output(DOUBLE, f.rows(), |out| {
        for (y, x) in out.f64s().iter_mut().zip(x.f64s()) {
            *y = x * 2.0;
        }
        out.null_where(x);
    })
}

/// shout(s varchar) -> varchar: ASCII upper case with a "!"; an empty
/// string is a row error.
#[no_mangle]
pub extern "C" fn shout(f: &Frame) -> Output {
    let s = f.arg(0);
    strata::output(VARCHAR, f.rows(), |out| {
        for i in 0..f.rows() {
            if s.is_null(i) {
                out.push_null();
            } else if s.bytes(i).is_empty() {
                out.push_null();
                out.error(i, "shout: empty string");
            } else {
                let upper = s.bytes(i).iter().map(u8::to_ascii_uppercase);
                out.push_from(upper.chain(Some(b'!')));
            }
        }
    })
}

/// words(s varchar) -> setof varchar: the words of s (split on ASCII
/// whitespace, vertical tab included).
#[no_mangle]
pub extern "C" fn words(f: &Frame) -> Output {
    let s = f.arg(0);
    strata::output(VARCHAR, 0, |out| {
        for i in 0..f.rows() {
            if s.is_null(i) {
                continue;
            }
            let space = |c: char| c.is_ascii_whitespace() || c == '\x0b';
            for w in s.str(i).split(space).filter(|w| !w.is_empty()) {
                out.emit(i);
                out.push_str(w);
            }
        }
    })
}

/// mean(x double) -> double: the average of the non-NULL values; retractable.
#[repr(C)]
#[derive(Clone, Copy)]
struct MeanState {
    sum: f64,
    count: i64,
}

// MeanState is two 8-byte numbers: no padding, any bits are valid.
unsafe impl strata::State for MeanState {}

const INIT: MeanState = MeanState { sum: 0.0, count: 0 };

#[no_mangle]
pub extern "C" fn mean_accumulate(f: &Frame) -> Output {
    strata::fold(f, INIT, |s, f, row| {
        let x = f.arg(0);
        if !x.is_null(row) {
            s.sum += x.f64s()[row];
            s.count += 1;
        }
    })
}

#[no_mangle]
pub extern "C" fn mean_retract(f: &Frame) -> Output {
    strata::fold(f, INIT, |s, f, row| {
        let x = f.arg(0);
        if !x.is_null(row) {
            s.sum -= x.f64s()[row];
            s.count -= 1;
        }
    })
}

#[no_mangle]
pub extern "C" fn mean_merge(f: &Frame) -> Output {
    strata::merge(f, INIT, |a, b| {
        a.sum += b.sum;
        a.count += b.count;
    })
}

#[no_mangle]
pub extern "C" fn mean_finish(f: &Frame) -> Output {
    strata::finish(f, INIT, DOUBLE, |s, out: &mut Out, g| {
        if s.count == 0 {
            out.set_null(g);
        } else {
            out.f64s()[g] = s.sum / s.count as f64;
        }
    })
}
