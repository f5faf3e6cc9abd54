package config

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// This file checks a YAML node tree against the spec and turns it into a
// tree of values: the kind checks, unknown keys, required keys, enums and
// environment expansion are all generic, driven by the field declarations.

// maxAliases bounds how many alias references the decoder follows, so a
// file of nested aliases ("billion laughs") cannot make it walk an
// exponentially large tree.
const maxAliases = 10000

// decoder holds what checking one file needs. It collects problems instead
// of stopping at the first.
type decoder struct {
	file     string
	src      []byte
	env      func(string) (string, bool)
	problems Problems
	aliases  int
}

// value is a checked YAML value of a field. Only the member matching the
// field's kind is set.
type value struct {
	f    *field
	pos  Pos
	node *yaml.Node
	s    string        // string
	i    int           // int
	b    bool          // bool
	d    time.Duration // duration
	list []*value      // list
	obj  *object       // object
	m    map[string]any
	mpos map[string]Pos // map: position of each key
	vpos map[string]Pos // map: position of each value
}

// object is a checked mapping of an object field.
type object struct {
	f      *field
	pos    Pos
	label  string // how messages name it: `view "v1"`, `source "bids" event_time`
	keyPos map[string]Pos
	vals   map[string]*value
}

func (d *decoder) pos(n *yaml.Node) Pos {
	p := Pos{File: d.file, Line: n.Line, Col: n.Column}
	if p.Line < 1 {
		p.Line, p.Col = 1, 1
	}
	return p
}

func (d *decoder) add(p Pos, hint, format string, args ...any) {
	p.File = d.file
	if p.Line < 1 {
		p.Line, p.Col = 1, 1
	}
	d.problems = append(d.problems, Problem{Pos: p, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// parse reads the YAML document of the file. It returns nil, with the
// problem recorded, when the file is not YAML.
func (d *decoder) parse() (root *yaml.Node) {
	defer func() {
		// yaml.v3 panics on a few malformed inputs; a bad file is bad
		// input, never a crash.
		if r := recover(); r != nil {
			d.add(d.locateBadBytes(), "fix the YAML syntax", "yaml: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(strings.NewReader(string(d.src)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.add(Pos{File: d.file, Line: 1, Col: 1}, "add sources and views; see docs/config.md", "deployment file is empty")
			return nil
		}
		d.yamlError(err)
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		d.add(d.pos(&next), "put the whole deployment in one document; remove the --- separator", "deployment file holds more than one YAML document")
	} else if !errors.Is(err, io.EOF) {
		d.yamlError(err)
	}
	root = &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			d.add(Pos{File: d.file, Line: 1, Col: 1}, "add sources and views; see docs/config.md", "deployment file is empty")
			return nil
		}
		root = root.Content[0]
	}
	return root
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError records a syntax error with the line yaml.v3 names.
func (d *decoder) yamlError(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		p := Pos{File: d.file, Line: d.refineLine(max(line, 1), m[2]), Col: 1}
		hint := syntaxHint(m[2])
		if ls := lineStart(d.src, p.Line); ls >= 0 {
			rest := d.src[ls:]
			if k := indexByte(rest, '\n'); k >= 0 {
				rest = rest[:k]
			}
			if indent := len(rest) - len(strings.TrimLeft(string(rest), " \t")); indexByte(rest[:indent], '\t') >= 0 {
				hint = "indent with spaces, not tabs"
			}
		}
		d.add(p, hint, "yaml: %s", m[2])
		return
	}
	d.add(d.locateBadBytes(), syntaxHint(msg), "%s", msg)
}

// refineLine finds the line a syntax error is on. yaml.v3 names the line
// where the enclosing construct starts (the list a bad item is in), which
// may be far above the mistake. The shortest prefix of the file, ending at
// or after that line, that fails with the same message ends at the
// offending line; it is found by bisection (a prefix that contains the
// mistake fails, one that does not, parses).
func (d *decoder) refineLine(line int, msg string) int {
	lines := strings.SplitAfter(string(d.src), "\n")
	fails := func(k int) bool {
		err := yamlCheck(strings.Join(lines[:k], ""))
		if err == nil {
			return false
		}
		m := yamlLine.FindStringSubmatch(err.Error())
		return m != nil && m[2] == msg
	}
	lo, hi := min(line, len(lines)), len(lines) // fails(hi) holds: it is the whole file
	if lo < 1 || fails(lo) {
		return max(lo, 1)
	}
	for hi-lo > 1 { // invariant: !fails(lo), fails(hi)
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// yamlCheck returns the first syntax error of the documents in src.
func yamlCheck(src string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	dec := yaml.NewDecoder(strings.NewReader(src))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func syntaxHint(msg string) string {
	switch {
	case strings.Contains(msg, "tab"):
		return "indent with spaces, not tabs"
	case strings.Contains(msg, "mapping values are not allowed"):
		return `quote values that contain ": ", or check the indentation of the line`
	case strings.Contains(msg, "did not find expected"):
		return "check the indentation and that brackets and quotes are closed"
	case strings.Contains(msg, "UTF-8"), strings.Contains(msg, "control characters"):
		return "save the file as UTF-8 text"
	}
	return "fix the YAML syntax"
}

// locateBadBytes finds the first byte YAML rejects without naming a line
// (invalid UTF-8, a control character), or the start of the file.
func (d *decoder) locateBadBytes() Pos {
	line, col := 1, 1
	for i := 0; i < len(d.src); {
		r, n := utf8.DecodeRune(d.src[i:])
		if r == utf8.RuneError && n <= 1 || r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || r == 0xfeff && i > 0 {
			return Pos{File: d.file, Line: line, Col: col}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += n
	}
	return Pos{File: d.file, Line: 1, Col: 1}
}

// resolve follows aliases. It returns nil for a dangling alias or when the
// alias budget is spent.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		d.aliases++
		if d.aliases == maxAliases+1 {
			d.add(d.pos(n), "expand the aliases by hand", "too many YAML alias references (more than %d)", maxAliases)
		}
		if d.aliases > maxAliases {
			return nil
		}
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node holds, for "got ..." in messages.
func describe(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!int", "!!float":
			return "the number " + n.Value
		case "!!bool":
			return n.Value
		}
		return strconv.Quote(truncate(n.Value, 40))
	}
	return "an unexpected node"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

type pair struct{ k, v *yaml.Node }

// pairs returns a mapping's key/value pairs with merge keys (<<: *base)
// expanded; keys written in the mapping win over merged ones.
func (d *decoder) pairs(n *yaml.Node, depth int) []pair {
	var own, merged []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" && depth < 32 {
			v = d.resolve(v)
			var srcs []*yaml.Node
			switch {
			case v == nil:
			case v.Kind == yaml.MappingNode:
				srcs = append(srcs, v)
			case v.Kind == yaml.SequenceNode:
				for _, e := range v.Content {
					if e = d.resolve(e); e != nil && e.Kind == yaml.MappingNode {
						srcs = append(srcs, e)
					} else if e != nil {
						d.add(d.pos(e), "merge only mappings: <<: [*a, *b]", "<< merges a list holding %s", describe(e))
					}
				}
			default:
				d.add(d.pos(v), "merge a mapping: <<: *base", "<< needs a mapping, got %s", describe(v))
			}
			for _, s := range srcs {
				merged = append(merged, d.pairs(s, depth+1)...)
			}
			continue
		}
		own = append(own, pair{k, v})
		if k.Kind == yaml.ScalarNode {
			seen[k.Value] = true
		}
	}
	for _, p := range merged {
		if p.k.Kind == yaml.ScalarNode && !seen[p.k.Value] {
			seen[p.k.Value] = true
			own = append(own, p)
		}
	}
	return own
}

// checkObject checks a mapping against an object field: unknown keys,
// duplicate keys, each value's kind, required keys.
func (d *decoder) checkObject(f *field, n *yaml.Node, label string) *object {
	o := &object{f: f, pos: d.pos(n), label: label, keyPos: map[string]Pos{}, vals: map[string]*value{}}
	nulls := map[string]bool{}
	for _, p := range d.pairs(n, 0) {
		k := d.resolve(p.k)
		if k == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.add(d.pos(k), "keys are plain names like name: or sql:", "%s: a key must be a name, got %s", orTop(label), describe(k))
			continue
		}
		name := k.Value
		kp := d.pos(k)
		c := f.lookup(name)
		if c == nil && label == "" && strings.HasPrefix(name, "x-") {
			continue // an extension key, for anchors to alias from
		}
		if c == nil {
			where := "top-level key"
			if label != "" {
				where = "key"
			}
			msg := fmt.Sprintf("unknown %s %q", where, name)
			if label != "" {
				msg += " in " + label
			}
			d.problems = append(d.problems, Problem{Pos: kp, Msg: msg, Hint: suggest(name, f.names(), "known keys")})
			continue
		}
		if prev, dup := o.keyPos[name]; dup {
			d.add(kp, fmt.Sprintf("remove one; the first is at line %d", prev.Line), "%s: key %q is set twice", orTop(label), name)
			continue
		}
		o.keyPos[name] = kp
		v := d.resolve(p.v)
		if isNull(v) {
			nulls[name] = true // an empty value is the same as leaving the key out
			continue
		}
		if val := d.check(c, v, label, name); val != nil {
			o.vals[name] = val
		}
	}
	for _, c := range f.fields {
		if !c.required {
			continue
		}
		if _, ok := o.keyPos[c.name]; ok {
			if nulls[c.name] {
				d.add(o.keyPos[c.name], "write "+c.name+": "+c.example, "%s: %s is empty", orTop(label), c.name)
			}
			continue
		}
		d.add(o.pos, "add "+c.name+": "+c.example, "%s: missing required key %q", orTop(label), c.name)
	}
	return o
}

func orTop(label string) string {
	if label == "" {
		return "deployment"
	}
	return label
}

// subject names a key of an object in messages: `view "v1": storage`.
func subject(label, key string) string {
	if label == "" {
		return key
	}
	return label + ": " + key
}

// check checks one non-null value against its field.
func (d *decoder) check(f *field, n *yaml.Node, label, key string) *value {
	v := &value{f: f, pos: d.pos(n), node: n}
	bad := func(want string) *value {
		hint := "example: " + key + ": " + f.example
		if f.example == "" || key == "" {
			hint = ""
		}
		d.add(v.pos, hint, "%s must be %s, got %s", subject(label, key), want, describe(n))
		return nil
	}
	switch f.kind {
	case kindString:
		if n.Kind != yaml.ScalarNode {
			return bad("a string")
		}
		v.s = n.Value
		if !f.noEnv {
			var ok bool
			if v.s, ok = d.expand(n); !ok {
				return nil
			}
		}
		if f.enum != nil && !contains(f.enum, v.s) {
			d.add(v.pos, suggest(v.s, f.enum, "known values"), "%s must be %s, got %q", subject(label, key), orList(f.enum), v.s)
			return nil
		}
	case kindInt:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return bad("an integer")
		}
		if err := n.Decode(&v.i); err != nil {
			d.add(v.pos, "use a smaller number", "%s: %s does not fit an integer", subject(label, key), n.Value)
			return nil
		}
	case kindBool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return bad("true or false")
		}
		if err := n.Decode(&v.b); err != nil {
			return bad("true or false")
		}
	case kindDuration:
		if n.Kind != yaml.ScalarNode {
			return bad("a duration")
		}
		s, ok := d.expand(n)
		if !ok {
			return nil
		}
		dur, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			d.add(v.pos, "write a number with a unit: 500ms, 5s, 1m30s, 2h", "%s: invalid duration %q", subject(label, key), s)
			return nil
		}
		if dur < 0 {
			d.add(v.pos, "use 0s or more", "%s: duration %s is negative", subject(label, key), s)
			return nil
		}
		v.d = dur
	case kindList:
		items := []*yaml.Node{n}
		switch {
		case n.Kind == yaml.SequenceNode:
			items = n.Content
		case n.Kind == yaml.ScalarNode && f.scalarList:
		default:
			return bad("a " + f.kindName())
		}
		v.list = make([]*value, 0, len(items))
		for i, e := range items {
			e = d.resolve(e)
			elabel := d.elemLabel(f, e, label, key, i)
			if e == nil || isNull(e) {
				p := v.pos
				if e != nil {
					p = d.pos(e)
				}
				d.add(p, "remove the empty - entry", "%s is empty", elabel)
				continue
			}
			if f.elem.kind == kindObject {
				if e.Kind != yaml.MappingNode {
					d.add(d.pos(e), "example: "+key+": "+f.example, "%s must be a mapping, got %s", elabel, describe(e))
					continue
				}
				v.list = append(v.list, &value{f: f.elem, pos: d.pos(e), node: e, obj: d.checkObject(f.elem, e, elabel)})
				continue
			}
			if ev := d.check(f.elem, e, label, key+"["+strconv.Itoa(i)+"]"); ev != nil {
				v.list = append(v.list, ev)
			}
		}
	case kindMap:
		if n.Kind != yaml.MappingNode {
			return bad("a mapping")
		}
		v.m, v.mpos, v.vpos = map[string]any{}, map[string]Pos{}, map[string]Pos{}
		for _, p := range d.pairs(n, 0) {
			k, val := d.resolve(p.k), d.resolve(p.v)
			if k == nil {
				continue
			}
			if k.Kind != yaml.ScalarNode {
				d.add(d.pos(k), "option names are plain words", "%s: an option name must be a string, got %s", subject(label, key), describe(k))
				continue
			}
			if prev, dup := v.mpos[k.Value]; dup {
				d.add(d.pos(k), fmt.Sprintf("remove one; the first is at line %d", prev.Line), "%s: %q is set twice", subject(label, key), k.Value)
				continue
			}
			v.mpos[k.Value] = d.pos(k)
			if val != nil {
				v.vpos[k.Value] = d.pos(val)
			} else {
				v.vpos[k.Value] = d.pos(k)
			}
			v.m[k.Value] = d.plain(val, 0)
		}
	case kindObject:
		if n.Kind != yaml.MappingNode {
			return bad("a mapping")
		}
		v.obj = d.checkObject(f, n, subject(label, key))
	}
	return v
}

// elemLabel names element i of a list in messages: `view "v1"` when it has
// a name, `view #2` otherwise.
func (d *decoder) elemLabel(f *field, e *yaml.Node, label, key string, i int) string {
	if f.elem.kind != kindObject {
		return fmt.Sprintf("%s[%d]", subject(label, key), i)
	}
	s := f.elem.singular
	if label != "" {
		s = label + ": " + s
	}
	if e != nil && e.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(e.Content); j += 2 {
			if e.Content[j].Value == "name" && e.Content[j+1].Kind == yaml.ScalarNode && e.Content[j+1].Value != "" {
				return fmt.Sprintf("%s %q", s, truncate(e.Content[j+1].Value, 40))
			}
		}
	}
	return fmt.Sprintf("%s #%d", s, i+1)
}

// plain converts a node to plain Go values: string, int (int64 or uint64
// when out of int's range), float64, bool, nil, []any, map[string]any.
// Strings have ${VAR} expanded.
func (d *decoder) plain(n *yaml.Node, depth int) any {
	n = d.resolve(n)
	if n == nil || depth > 100 {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for _, p := range d.pairs(n, 0) {
			if k := d.resolve(p.k); k != nil && k.Kind == yaml.ScalarNode {
				m[k.Value] = d.plain(p.v, depth+1)
			}
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			l = append(l, d.plain(e, depth+1))
		}
		return l
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool":
			var b bool
			if n.Decode(&b) == nil {
				return b
			}
		case "!!int":
			var i int
			if n.Decode(&i) == nil {
				return i
			}
			var i64 int64
			if n.Decode(&i64) == nil {
				return i64
			}
			var u64 uint64
			if n.Decode(&u64) == nil {
				return u64
			}
		case "!!float":
			var f float64
			if n.Decode(&f) == nil {
				return f
			}
		}
		s, _ := d.expand(n)
		return s
	}
	return nil
}

// envRef matches ${NAME} and ${NAME:-default}; $${ escapes a literal ${.
var envRef = regexp.MustCompile(`\$\$\{|\$\{([^}]*)\}|\$\{`)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expand replaces environment references in a scalar. It reports a problem
// and returns false when one cannot be expanded.
func (d *decoder) expand(n *yaml.Node) (string, bool) {
	s := n.Value
	if !strings.Contains(s, "${") {
		return s, true
	}
	ok := true
	out := envRef.ReplaceAllStringFunc(s, func(ref string) string {
		if ref == "$${" {
			return "${"
		}
		if ref == "${" {
			d.add(d.pos(n), "close it: ${NAME}; write $${ for a literal ${", "unterminated ${ in %q", truncate(s, 40))
			ok = false
			return ref
		}
		body := ref[2 : len(ref)-1]
		name, def, hasDef := strings.Cut(body, ":-")
		if !envName.MatchString(name) {
			d.add(d.pos(n), "environment variable names are letters, digits and _", "invalid environment reference %q", ref)
			ok = false
			return ref
		}
		if v, set := d.env(name); set {
			return v
		}
		if hasDef {
			return def
		}
		d.add(d.pos(n), "set it, or give a default: ${"+name+":-value}", "environment variable %s is not set", name)
		ok = false
		return ref
	})
	return out, ok
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// orList writes "a, b or c".
func orList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// get returns the checked value of key, or nil when it is absent or bad.
// Asking for a key the spec does not declare is a programming error.
func (o *object) get(key string) *value {
	if o == nil {
		return nil
	}
	if o.f.lookup(key) == nil {
		panic(fmt.Sprintf("config: spec of %s has no key %q", o.f.singular, key))
	}
	return o.vals[key]
}

// str returns a string key, or its default.
func (o *object) str(key string) string {
	if v := o.get(key); v != nil {
		return v.s
	}
	if o != nil {
		if s, ok := o.f.lookup(key).def.(string); ok {
			return s
		}
	}
	return ""
}

// at returns where key's value is, else where the key is, else where the
// object is.
func (o *object) at(key string) Pos {
	if o == nil {
		return Pos{}
	}
	if v := o.vals[key]; v != nil {
		return v.pos
	}
	if p, ok := o.keyPos[key]; ok {
		return p
	}
	return o.pos
}

// strs returns a list of strings, or its default.
func (o *object) strs(key string) ([]string, []Pos) {
	v := o.get(key)
	if v == nil {
		if o != nil {
			if def, ok := o.f.lookup(key).def.([]string); ok {
				return append([]string(nil), def...), nil
			}
		}
		return nil, nil
	}
	out := make([]string, len(v.list))
	pos := make([]Pos, len(v.list))
	for i, e := range v.list {
		out[i], pos[i] = e.s, e.pos
	}
	return out, pos
}

// objs returns the elements of a list of objects.
func (o *object) objs(key string) []*object {
	v := o.get(key)
	if v == nil {
		return nil
	}
	out := make([]*object, 0, len(v.list))
	for _, e := range v.list {
		out = append(out, e.obj)
	}
	return out
}

// obj returns an object key, or nil.
func (o *object) obj(key string) *object {
	if v := o.get(key); v != nil {
		return v.obj
	}
	return nil
}
