// demo is the worked example of the AssemblyScript SDK: a numeric scalar
// (double_it), a string scalar (shout), a table function (words) and a
// retractable aggregate (mean). Its manifest is strata.json.
import * as strata from "./strata";
import { Frame, Out } from "./strata";

export { strata_alloc, strata_free } from "./strata";

/** double_it(x double) -> double: 2x, NULL for NULL. */
export function double_it(frame: i32): i32 {
  const f = strata.input(frame);
  const x = f.arg(0);
  const out = strata.output(strata.DOUBLE, f.rows);
  for (let i = 0; i < f.rows; i++) out.setF64(i, x.f64(i) * 2);
  out.nullWhere(x);
  return out.finish();
}

/** shout(s varchar) -> varchar: ASCII upper case with a "!"; an empty string is a row error. */
export function shout(frame: i32): i32 {
  const f = strata.input(frame);
  const s = f.arg(0);
  const out = strata.output(strata.VARCHAR, 0);
  for (let i = 0; i < f.rows; i++) {
    if (s.isNull(i)) {
      out.pushNull();
      continue;
    }
    const len = s.valueLen(i);
    if (len == 0) {
      out.pushNull();
      out.error(i, "shout: empty string");
      continue;
    }
    // Upper-case the UTF-8 bytes in place of a string round trip:
    // multi-byte sequences never contain ASCII bytes.
    const src = s.valuePtr(i);
    const dst = out.reserve(len + 1);
    for (let j = 0; j < len; j++) {
      const c = load<u8>(src + j);
      store<u8>(dst + j, c >= 0x61 && c <= 0x7a ? c - 0x20 : c);
    }
    store<u8>(dst + len, 0x21); // '!'
  }
  return out.finish();
}

// isSpace reports ASCII whitespace: space, \t, \n, \v, \f, \r.
function isSpace(c: u8): bool {
  return c == 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** words(s varchar) -> setof varchar: the words of s (split on ASCII whitespace). */
export function words(frame: i32): i32 {
  const f = strata.input(frame);
  const s = f.arg(0);
  const out = strata.output(strata.VARCHAR, 0);
  for (let i = 0; i < f.rows; i++) {
    if (s.isNull(i)) continue;
    const p = s.valuePtr(i);
    const len = s.valueLen(i);
    let j = 0;
    while (j < len) {
      while (j < len && isSpace(load<u8>(p + j))) j++;
      const start = j;
      while (j < len && !isSpace(load<u8>(p + j))) j++;
      if (j > start) {
        out.emit(i);
        out.pushBytes(p + start, j - start);
      }
    }
  }
  return out.finish();
}

/** mean(x double) -> double: the average of the non-NULL values; retractable. */
@unmanaged
class MeanState {
  sum: f64;
  count: i64;
}

function meanAdd(s: MeanState, f: Frame, row: i32): void {
  const x = f.arg(0);
  if (!x.isNull(row)) {
    s.sum += x.f64(row);
    s.count++;
  }
}

function meanSub(s: MeanState, f: Frame, row: i32): void {
  const x = f.arg(0);
  if (!x.isNull(row)) {
    s.sum -= x.f64(row);
    s.count--;
  }
}

function meanCombine(a: MeanState, b: MeanState): void {
  a.sum += b.sum;
  a.count += b.count;
}

function meanFinal(s: MeanState, r: Out, g: i32): void {
  if (s.count == 0) r.setNull(g);
  else r.setF64(g, s.sum / <f64>s.count);
}

export function mean_accumulate(frame: i32): i32 {
  return strata.fold<MeanState>(frame, meanAdd);
}

export function mean_retract(frame: i32): i32 {
  return strata.fold<MeanState>(frame, meanSub);
}

export function mean_merge(frame: i32): i32 {
  return strata.merge<MeanState>(frame, meanCombine);
}

export function mean_finish(frame: i32): i32 {
  return strata.finish<MeanState>(frame, strata.DOUBLE, meanFinal);
}
