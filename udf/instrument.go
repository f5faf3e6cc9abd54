package udf

import (
	"errors"
	"fmt"
	"math"
)

// Interrupt checks by rewriting the module (Wasmtime's "epoch interruption"
// done in the binary rather than in the compiler).
//
// wazero enforces deadlines with RuntimeConfig.WithCloseOnContextDone, which
// compiles into every loop header an indirect call to a trampoline that
// leaves the machine code for Go: a C loop that doubles a column costs
// 31 ns/row with it and 6.4 ns/row without. instrumentInterrupts instead
// adds two mutable i32 globals, $interrupt (exported as strata_interrupt)
// and $fuel, and at the head of every loop
//
//	global.get $fuel
//	i32.const 1
//	i32.sub
//	global.set $fuel
//	global.get $fuel
//	i32.eqz
//	if                  ;; once every interruptPeriod loop iterations
//	  i32.const 0
//	  memory.grow 0     ;; a call into Go: a point where the goroutine can be preempted
//	  drop
//	  global.get $interrupt
//	  if
//	    unreachable
//	  end
//	  i32.const interruptPeriod
//	  global.set $fuel
//	end
//
// The common path is a load, a subtraction, a store and a branch. The host
// sets $interrupt to 1 from a watchdog at the deadline
// (api.MutableGlobal.Set); the guest traps at the next slow path.
//
// Why the slow path calls into Go: machine code compiled by wazero has no
// point where the Go runtime can preempt it, and the runtime stops every
// goroutine (for a garbage collection, say) only once each has reached
// such a point. A loop that only read a global would hold up a stop the
// world until it ended; if it never does, the watchdog goroutine is stopped
// too and the whole process hangs (TestInstrumentInterrupt collects garbage
// while a runaway loop spins, which hung every time with a global check
// alone). memory.grow always leaves the machine code for Go in wazero; with
// a delta of 0 it changes nothing. That is why a module without a memory
// is refused.
//
// Straight-line code needs no check: without a loop it ends, and recursion
// ends at the stack limit.
//
// The rewrite shifts no index: the globals are defined after every other
// global, the export is appended, and nothing else moves except code
// offsets. Custom sections are kept byte for byte (the manifest included);
// those that point into the code section by offset (DWARF, branch hints)
// go stale, which does not matter to a host that ignores them.

// interruptExport is the name under which an instrumented module exports
// its interrupt flag.
const interruptExport = "strata_interrupt"

// interruptPeriod is how many loop iterations run between two calls into
// Go (and two looks at the interrupt flag): about 0.1 to 1 ms of a tight
// loop, so the call costs under 1% and an interrupt or a preemption waits
// about that long.
const interruptPeriod = 1 << 16

// Section ids.
const (
	secCustom    = 0
	secImport    = 2
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secCode      = 10
	secDataCount = 12
	secTag       = 13
)

// sectionRank is the order known sections must appear in (custom sections
// may appear anywhere): the tag section (exception handling) sits between
// memory and global, the data count section between element and code.
var sectionRank = map[byte]int{
	1: 1, 2: 2, 3: 3, 4: 4, 5: 5, secTag: 6, secGlobal: 7, secExport: 8,
	8: 9, 9: 10, secDataCount: 11, secCode: 12, 11: 13,
}

// instrumentInterrupts returns wasm with an interrupt check at the head of
// every loop, and the name of the exported i32 global that triggers them:
// set it to non-zero and the guest traps with "unreachable" within
// interruptPeriod loop iterations. The module must have a memory (the
// checks call memory.grow 0 to let Go preempt the guest). wasm is not
// modified. It fails on a module it cannot decode exactly (an unknown
// opcode, a truncated body) with an error naming the function and the
// byte offset in the module, and on a module that already has something
// named strata_interrupt.
func instrumentInterrupts(wasm []byte) (out []byte, globalExport string, err error) {
	m, err := scanModule(wasm)
	if err != nil {
		return nil, "", err
	}
	if m.conflict != "" {
		return nil, "", fmt.Errorf("the module %s", m.conflict)
	}
	if m.memories == 0 {
		return nil, "", errors.New("the module has no memory (the loop checks call memory.grow to yield to the host)")
	}
	if uint64(m.importedGlobals)+uint64(m.definedGlobals)+2 > math.MaxUint32 {
		return nil, "", errors.New("too many globals to add two")
	}
	g := m.importedGlobals + m.definedGlobals // $interrupt; $fuel is g+1
	check := interruptCheck(g, g+1)
	if int64(len(wasm))+int64(len(check))*int64(m.loops) > math.MaxUint32 {
		return nil, "", errors.New("too many loops: the code would outgrow 4 GiB")
	}

	newGlobals := appendGlobalI32(appendGlobalI32(nil, 0), interruptPeriod)
	newExport := appendName(nil, interruptExport)
	newExport = appendULEB(append(newExport, externGlobal), g)

	out = make([]byte, 0, len(wasm)+64+len(check)*m.loops)
	out = append(out, wasm[:8]...)
	globalDone, exportDone := false, false
	emitMissing := func(rank int) {
		if !globalDone && rank > sectionRank[secGlobal] {
			out = appendSection(out, secGlobal, appendULEB(nil, 2), newGlobals)
			globalDone = true
		}
		if !exportDone && rank > sectionRank[secExport] {
			out = appendSection(out, secExport, appendULEB(nil, 1), newExport)
			exportDone = true
		}
	}
	for _, s := range m.sections {
		if s.id != secCustom {
			emitMissing(sectionRank[s.id])
		}
		switch s.id {
		case secGlobal:
			// The global section's body is its count then its entries,
			// which stay as they are.
			out = appendSection(out, secGlobal, appendULEB(nil, m.definedGlobals+2), wasm[m.globalsAt:s.end], newGlobals)
			globalDone = true
		case secExport:
			out = appendSection(out, secExport, appendULEB(nil, m.exports+1), wasm[m.exportsAt:s.end], newExport)
			exportDone = true
		case secCode:
			out = appendCode(out, wasm, m.bodies, check)
		default:
			out = append(out, wasm[s.start:s.end]...)
		}
	}
	emitMissing(math.MaxInt)
	return out, interruptExport, nil
}

// interruptCheck is the code put at the head of every loop (see the top of
// this file).
func interruptCheck(interrupt, fuel uint32) []byte {
	getFuel := appendULEB([]byte{opGlobalGet}, fuel)
	setFuel := appendULEB([]byte{opGlobalSet}, fuel)
	c := append([]byte{}, getFuel...)
	c = append(c, opI32Const, 1, opI32Sub)
	c = append(c, setFuel...)
	c = append(c, getFuel...)
	c = append(c, opI32Eqz, opIf, blockEmpty)
	c = append(c, opI32Const, 0, opMemoryGrow, 0, opDrop)
	c = appendULEB(append(c, opGlobalGet), interrupt)
	c = append(c, opIf, blockEmpty, opUnreachable, opEnd)
	c = appendSLEB(append(c, opI32Const), interruptPeriod)
	c = append(c, setFuel...)
	return append(c, opEnd)
}

// appendGlobalI32 appends the entry (global (mut i32) (i32.const v)).
func appendGlobalI32(out []byte, v int32) []byte {
	out = appendSLEB(append(out, valI32, 1 /* mutable */, opI32Const), v)
	return append(out, opEnd)
}

// wasmLayout is what instrumentInterrupts needs to know of a module.
type wasmLayout struct {
	sections        []section
	importedFuncs   uint32
	importedGlobals uint32
	definedGlobals  uint32
	memories        uint32 // imported and defined
	globalsAt       int    // offset of the first global entry
	exports         uint32
	exportsAt       int    // offset of the first export entry
	conflict        string // why the module cannot take the export, if it cannot
	bodies          []wasmFuncBody
	loops           int
}

// wasmFuncBody is one function of the code section.
type wasmFuncBody struct {
	index      uint32 // in the function index space (imports first)
	start, end int    // the body, after its size
	loops      []int  // offsets just after each loop's block type
}

// scanModule splits the module into sections, counts imports, globals and
// exports, and finds every loop of every function.
func scanModule(wasm []byte) (*wasmLayout, error) {
	secs, err := sections(wasm)
	if err != nil {
		return nil, err
	}
	m := &wasmLayout{sections: secs}
	last := 0
	for _, s := range secs {
		if s.id == secCustom {
			continue
		}
		rank, ok := sectionRank[s.id]
		if !ok {
			return nil, fmt.Errorf("unknown section id %d at byte 0x%x", s.id, s.start)
		}
		if rank <= last {
			return nil, fmt.Errorf("section id %d at byte 0x%x is out of order or repeated", s.id, s.start)
		}
		last = rank
		r := &wasmReader{b: wasm, p: s.body, end: s.end}
		switch s.id {
		case secImport:
			m.scanImports(r)
		case secMemory:
			m.memories += r.u32()
		case secGlobal:
			m.definedGlobals = r.u32()
			m.globalsAt = r.p
		case secExport:
			m.scanExports(r)
		case secCode:
			err = m.scanCode(r)
		}
		if err != nil {
			return nil, err
		}
		if r.err != nil {
			return nil, fmt.Errorf("%s section: %w", sectionNames[s.id], r.err)
		}
	}
	return m, nil
}

// sectionNames name sections in errors.
var sectionNames = map[byte]string{
	1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global", 7: "export",
	8: "start", 9: "element", 10: "code", 11: "data", 12: "data count", 13: "tag",
}

// External kinds of imports and exports.
const (
	externFunc   = 0
	externTable  = 1
	externMemory = 2
	externGlobal = 3
	externTag    = 4
)

func (m *wasmLayout) scanImports(r *wasmReader) {
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.name()
		field := r.name()
		kind := r.byte()
		switch kind {
		case externFunc:
			r.u32()
			m.importedFuncs++
		case externTable:
			r.valType()
			r.limits()
		case externMemory:
			r.limits()
			m.memories++
		case externGlobal:
			if field == interruptExport {
				m.conflict = "imports a global named " + interruptExport
			}
			r.valType()
			r.byte() // mutability
			m.importedGlobals++
		case externTag:
			r.byte() // attribute
			r.u32()
		default:
			r.fail("unknown import kind 0x%02x", kind)
		}
	}
	r.trailing()
}

func (m *wasmLayout) scanExports(r *wasmReader) {
	m.exports = r.u32()
	m.exportsAt = r.p
	for i := uint32(0); i < m.exports && r.err == nil; i++ {
		if r.name() == interruptExport {
			m.conflict = "already exports " + interruptExport
		}
		r.byte()
		r.u32()
	}
	r.trailing()
}

func (m *wasmLayout) scanCode(r *wasmReader) error {
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		size := int(r.u32())
		if r.err != nil {
			break
		}
		if size > r.end-r.p {
			return fmt.Errorf("function %d at byte 0x%x: body of %d bytes overruns the section", m.importedFuncs+i, r.p, size)
		}
		fb := wasmFuncBody{index: m.importedFuncs + i, start: r.p, end: r.p + size}
		loops, err := loopHeads(r.b, fb.start, fb.end)
		if err != nil {
			return fmt.Errorf("function %d %w", fb.index, err)
		}
		fb.loops = loops
		m.loops += len(loops)
		m.bodies = append(m.bodies, fb)
		r.p = fb.end
	}
	r.trailing()
	return nil
}

// appendCode writes the code section with check inserted at every loop
// head, each body's size and the section's size re-encoded.
func appendCode(out, wasm []byte, bodies []wasmFuncBody, check []byte) []byte {
	size := len(appendULEB(nil, uint32(len(bodies))))
	for _, fb := range bodies {
		n := fb.end - fb.start + len(check)*len(fb.loops)
		size += len(appendULEB(nil, uint32(n))) + n
	}
	out = append(out, secCode)
	out = appendULEB(out, uint32(size))
	out = appendULEB(out, uint32(len(bodies)))
	for _, fb := range bodies {
		out = appendULEB(out, uint32(fb.end-fb.start+len(check)*len(fb.loops)))
		p := fb.start
		for _, at := range fb.loops {
			out = append(out, wasm[p:at]...)
			out = append(out, check...)
			p = at
		}
		out = append(out, wasm[p:fb.end]...)
	}
	return out
}

func appendSection(out []byte, id byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out = appendULEB(append(out, id), uint32(n))
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func appendName(out []byte, s string) []byte {
	return append(appendULEB(out, uint32(len(s))), s...)
}

func appendSLEB(out []byte, v int32) []byte {
	for v < -64 || v >= 64 {
		out = append(out, byte(v)|0x80)
		v >>= 7
	}
	return append(out, byte(v)&0x7f)
}

func appendULEB(out []byte, v uint32) []byte {
	for v >= 0x80 {
		out = append(out, byte(v)|0x80)
		v >>= 7
	}
	return append(out, byte(v))
}

// Opcodes and immediates the rewriter writes or must tell apart.
const (
	opUnreachable = 0x00
	opLoop        = 0x03
	opIf          = 0x04
	opEnd         = 0x0b
	opDrop        = 0x1a
	opGlobalGet   = 0x23
	opGlobalSet   = 0x24
	opMemoryGrow  = 0x40
	opI32Const    = 0x41
	opI32Eqz      = 0x45
	opI32Sub      = 0x6b
	blockEmpty    = 0x40
	valI32        = 0x7f
)

// loopHeads decodes the function body wasm[start:end] (locals, then
// instructions) and returns the offset just after the block type of each
// loop instruction. Every instruction is decoded with its immediates, so a
// byte inside an immediate is never taken for an opcode. Errors name the
// offset in wasm of the instruction at fault, and start with "at byte" so
// that the caller can put the function first.
func loopHeads(wasm []byte, start, end int) ([]int, error) {
	r := &wasmReader{b: wasm, p: start, end: end}
	groups := r.u32()
	for i := uint32(0); i < groups && r.err == nil; i++ {
		r.u32()
		r.valType()
	}
	if r.err != nil {
		return nil, fmt.Errorf("at byte 0x%x: bad locals: %w", start, r.err)
	}
	var loops []int
	for r.p < r.end {
		at := r.p
		op := r.byte()
		switch {
		case op == opLoop:
			r.blockType()
			loops = append(loops, r.p)
		case op == 0x02, op == opIf, op == 0x06: // block, if, try (legacy)
			r.blockType()
		case op == 0x00, op == 0x01, op == 0x05, op == 0x0a, op == opEnd, op == 0x0f,
			op == 0x19, op == 0x1a, op == 0x1b, op == 0xd1, op == 0xd4,
			0x45 <= op && op <= 0xc4:
			// unreachable, nop, else, throw_ref, end, return, catch_all
			// (legacy), drop, select, ref.is_null, ref.as_non_null, and
			// the numeric instructions: no immediates.
		case op == 0x07, op == 0x08, op == 0x09, op == 0x0c, op == 0x0d, op == 0x10,
			op == 0x12, op == 0x14, op == 0x15, op == 0x18, 0x20 <= op && op <= 0x26,
			op == 0x3f, op == 0x40, op == 0xd2, op == 0xd5, op == 0xd6:
			// catch, throw, rethrow, br, br_if, call, return_call,
			// call_ref, return_call_ref, delegate, local.*, global.*,
			// table.get/set, memory.size/grow, ref.func, br_on_null,
			// br_on_non_null: one index.
			r.u32()
		case op == 0x0e: // br_table
			n := r.u32()
			for i := uint32(0); i < n && r.err == nil; i++ {
				r.u32()
			}
			r.u32()
		case op == 0x11, op == 0x13: // call_indirect, return_call_indirect
			r.u32()
			r.u32()
		case op == 0x1c: // select with types
			n := r.u32()
			for i := uint32(0); i < n && r.err == nil; i++ {
				r.valType()
			}
		case op == 0x1f: // try_table
			r.blockType()
			n := r.u32()
			for i := uint32(0); i < n && r.err == nil; i++ {
				switch k := r.byte(); k {
				case 0x00, 0x01: // catch, catch_ref: tag, label
					r.u32()
					r.u32()
				case 0x02, 0x03: // catch_all, catch_all_ref: label
					r.u32()
				default:
					r.fail("unknown catch kind 0x%02x", k)
				}
			}
		case 0x28 <= op && op <= 0x3e: // loads and stores
			r.memarg()
		case op == 0x41: // i32.const
			r.skipLEB(5)
		case op == 0x42: // i64.const
			r.skipLEB(10)
		case op == 0x43: // f32.const
			r.skip(4)
		case op == 0x44: // f64.const
			r.skip(8)
		case op == 0xd0: // ref.null
			r.s33()
		case op == 0xfc:
			miscImmediates(r)
		case op == 0xfd:
			vecImmediates(r)
		case op == 0xfe:
			atomicImmediates(r)
		default:
			r.fail("unknown opcode 0x%02x", op)
		}
		if r.err != nil {
			return nil, fmt.Errorf("at byte 0x%x: %w", at, r.err)
		}
	}
	return loops, nil
}

// miscImmediates skips the immediates of a 0xFC instruction: saturating
// truncation, bulk memory and table operations.
func miscImmediates(r *wasmReader) {
	switch sub := r.u32(); {
	case sub <= 7: // *.trunc_sat_*
	case sub == 8, sub == 10, sub == 12, sub == 14:
		// memory.init data mem, memory.copy mem mem, table.init elem
		// table, table.copy table table
		r.u32()
		r.u32()
	case sub == 9, sub == 11, sub == 13, 15 <= sub && sub <= 17:
		// data.drop, memory.fill, elem.drop, table.grow/size/fill
		r.u32()
	default:
		r.fail("unknown opcode 0xfc 0x%02x", sub)
	}
}

// vecImmediates skips the immediates of a 0xFD (SIMD) instruction.
func vecImmediates(r *wasmReader) {
	sub := r.u32()
	switch {
	case sub <= 0x0b, sub == 0x5c, sub == 0x5d: // v128.load*, v128.store
		r.memarg()
	case sub == 0x0c, sub == 0x0d: // v128.const, i8x16.shuffle
		r.skip(16)
	case 0x15 <= sub && sub <= 0x22: // extract_lane, replace_lane
		r.skip(1)
	case 0x54 <= sub && sub <= 0x5b: // v128.load*_lane, v128.store*_lane
		r.memarg()
		r.skip(1)
	case sub <= 0xff && !vecUnassigned[sub], 0x100 <= sub && sub <= 0x113:
		// Everything else, relaxed SIMD included, has no immediates.
	default:
		r.fail("unknown opcode 0xfd 0x%02x", sub)
	}
}

// vecUnassigned are the SIMD opcodes below 0x100 that the specification
// leaves unused.
var vecUnassigned = func() (u [256]bool) {
	for _, op := range []byte{0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee} {
		u[op] = true
	}
	return u
}()

// atomicImmediates skips the immediates of a 0xFE (threads) instruction.
func atomicImmediates(r *wasmReader) {
	switch sub := r.u32(); {
	case sub <= 0x02, 0x10 <= sub && sub <= 0x4e: // notify, wait, loads, stores, rmw
		r.memarg()
	case sub == 0x03: // atomic.fence
		r.skip(1)
	default:
		r.fail("unknown opcode 0xfe 0x%02x", sub)
	}
}

// wasmReader decodes b[p:end]. The first error sticks: later reads return
// zero values and do not move, so callers check err once per step.
type wasmReader struct {
	b      []byte
	p, end int
	err    error
}

var errTruncated = errors.New("truncated")

func (r *wasmReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

// trailing reports bytes left over after a section's entries.
func (r *wasmReader) trailing() {
	if r.err == nil && r.p != r.end {
		r.fail("%d unexpected bytes at byte 0x%x", r.end-r.p, r.p)
	}
}

func (r *wasmReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.p >= r.end {
		r.err = errTruncated
		return 0
	}
	c := r.b[r.p]
	r.p++
	return c
}

func (r *wasmReader) skip(n int) {
	if r.err != nil {
		return
	}
	if n > r.end-r.p {
		r.err = errTruncated
		return
	}
	r.p += n
}

// u32 reads an unsigned LEB128 of at most 5 bytes that fits 32 bits.
func (r *wasmReader) u32() uint32 {
	var v uint32
	for i := 0; i < 5; i++ {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if i == 4 && c > 0x0f {
			r.fail("integer too large")
			return 0
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v
		}
	}
	return 0 // unreachable: the fifth byte is < 0x10
}

// s33 reads a signed LEB128 of at most 5 bytes (a block or heap type).
func (r *wasmReader) s33() int64 {
	var v int64
	for i := 0; i < 5; i++ {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= int64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c&0x40 != 0 {
				v |= -1 << (7 * (i + 1))
			}
			return v
		}
	}
	r.fail("integer too long")
	return 0
}

// skipLEB skips a LEB128 of at most max bytes.
func (r *wasmReader) skipLEB(max int) {
	for i := 0; i < max; i++ {
		if r.byte() < 0x80 || r.err != nil {
			return
		}
	}
	r.fail("integer too long")
}

// name reads a length-prefixed string.
func (r *wasmReader) name() string {
	n := r.u32()
	if r.err != nil {
		return ""
	}
	if int64(n) > int64(r.end-r.p) {
		r.err = errTruncated
		return ""
	}
	s := string(r.b[r.p : r.p+int(n)])
	r.p += int(n)
	return s
}

// valType reads a value type: a number, vector or reference type, the
// typed references (ref null? ht) included.
func (r *wasmReader) valType() {
	switch t := r.byte(); t {
	case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f, 0x69:
	case 0x63, 0x64:
		r.s33()
	default:
		r.fail("unknown value type 0x%02x", t)
	}
}

// blockType reads a block type: empty, one value type, or a type index.
func (r *wasmReader) blockType() {
	if r.p < r.end {
		switch r.b[r.p] {
		case blockEmpty:
			r.p++
			return
		case 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f, 0x69, 0x63, 0x64:
			r.valType()
			return
		}
	}
	if idx := r.s33(); r.err == nil && idx < 0 {
		r.fail("unknown block type")
	}
}

// memarg reads a memory argument: alignment (bit 6 flags a memory index,
// multi-memory), [memory index], offset (64 bits under memory64).
func (r *wasmReader) memarg() {
	if r.u32()&0x40 != 0 {
		r.u32()
	}
	r.skipLEB(10)
}

// limits reads table or memory limits: flags (bit 0 max present, bit 1
// shared, bit 2 64-bit), min, [max].
func (r *wasmReader) limits() {
	flags := r.byte()
	if flags > 7 {
		r.fail("unknown limits flags 0x%02x", flags)
		return
	}
	r.skipLEB(10)
	if flags&1 != 0 {
		r.skipLEB(10)
	}
}
