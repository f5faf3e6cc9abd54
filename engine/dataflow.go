package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Node is one operator of a dataflow with its inputs, as the planner builds
// it: a tree whose leaves read relations (sources or other views).
type Node struct {
	Op     Operator
	Inputs []Input
}

// Input feeds one input port of a Node: either the changes of a relation
// (a source or a view, by name) or the output of another node.
type Input struct {
	Relation string
	Node     *Node
}

// Dataflow is a view's operator graph, flattened for running: batches of a
// relation enter at the ports that read it, each operator's output flows to
// its consumer, and the root's output is the view's changelog.
//
// A Dataflow is driven by one goroutine. Push and EndEpoch borrow their
// batches and emit borrowed batches.
type Dataflow struct {
	root  *Node
	order []*dfNode // inputs before their consumers
	scans map[string][]dfPort
}

type dfNode struct {
	op      Operator
	out     *dfNode // nil for the root
	outPort int
}

type dfPort struct {
	node *dfNode
	port int
}

// NewDataflow flattens the tree under root.
func NewDataflow(root *Node) (*Dataflow, error) {
	d := &Dataflow{root: root, scans: map[string][]dfPort{}}
	var walk func(n *Node, out *dfNode, outPort int) error
	walk = func(n *Node, out *dfNode, outPort int) error {
		if n == nil || n.Op == nil {
			return fmt.Errorf("engine: dataflow node without an operator")
		}
		dn := &dfNode{op: n.Op, out: out, outPort: outPort}
		for i, in := range n.Inputs {
			switch {
			case in.Node != nil && in.Relation == "":
				if err := walk(in.Node, dn, i); err != nil {
					return err
				}
			case in.Node == nil && in.Relation != "":
				d.scans[in.Relation] = append(d.scans[in.Relation], dfPort{dn, i})
			default:
				return fmt.Errorf("engine: input %d of %s must be a relation or a node", i, n.Op.Explain())
			}
		}
		d.order = append(d.order, dn)
		return nil
	}
	if err := walk(root, nil, 0); err != nil {
		return nil, err
	}
	return d, nil
}

// Schema is the changelog schema of the view's output.
func (d *Dataflow) Schema() *arrow.Schema { return d.root.Op.Schema() }

// Inputs lists the relations the dataflow reads, sorted.
func (d *Dataflow) Inputs() []string {
	out := make([]string, 0, len(d.scans))
	for r := range d.scans {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

func (d *Dataflow) forward(ctx context.Context, n *dfNode, emit Emit) Emit {
	if n.out == nil {
		return emit
	}
	return func(b arrow.RecordBatch) error {
		return n.out.op.Push(ctx, n.outPort, b, d.forward(ctx, n.out, emit))
	}
}

// Push delivers a batch of relation rel's changes (borrowed) to every port
// reading it; what reaches the root goes to emit.
func (d *Dataflow) Push(ctx context.Context, rel string, b arrow.RecordBatch, emit Emit) error {
	for _, p := range d.scans[rel] {
		if err := p.node.op.Push(ctx, p.port, b, d.forward(ctx, p.node, emit)); err != nil {
			return err
		}
	}
	return nil
}

// EndEpoch ends the epoch in every operator, inputs before consumers, so
// what a stateful operator emits at the end of the epoch flows through the
// rest of the graph first.
func (d *Dataflow) EndEpoch(ctx context.Context, emit Emit) error {
	for _, n := range d.order {
		if err := n.op.EndEpoch(ctx, d.forward(ctx, n, emit)); err != nil {
			return err
		}
	}
	return nil
}

// Stateful reports whether any operator keeps state across epochs.
func (d *Dataflow) Stateful() bool {
	for _, n := range d.order {
		if n.op.Stateful() {
			return true
		}
	}
	return false
}

// Close closes every operator.
func (d *Dataflow) Close() {
	for _, n := range d.order {
		n.op.Close()
	}
}

// Explain renders the operator tree, root first, one operator a line.
func (d *Dataflow) Explain() string {
	var b strings.Builder
	var walk func(n *Node, depth int)
	walk = func(n *Node, depth int) {
		fmt.Fprintf(&b, "%s%s\n", strings.Repeat("  ", depth), n.Op.Explain())
		for _, in := range n.Inputs {
			if in.Node != nil {
				walk(in.Node, depth+1)
			} else {
				fmt.Fprintf(&b, "%sScan %s\n", strings.Repeat("  ", depth+1), in.Relation)
			}
		}
	}
	walk(d.root, 0)
	return b.String()
}

// Chain builds the single-input pipeline ops[0] -> ops[1] -> ... reading
// relation rel, as a dataflow.
func Chain(rel string, ops ...Operator) (*Dataflow, error) {
	if len(ops) == 0 {
		return nil, fmt.Errorf("engine: empty chain")
	}
	n := &Node{Op: ops[0], Inputs: []Input{{Relation: rel}}}
	for _, op := range ops[1:] {
		n = &Node{Op: op, Inputs: []Input{{Node: n}}}
	}
	return NewDataflow(n)
}

// SetWatermark hands the dataflow's event-time watermark to every operator
// that uses one.
func (d *Dataflow) SetWatermark(wm int64) {
	for _, n := range d.order {
		if w, ok := n.op.(Watermarked); ok {
			w.SetWatermark(wm)
		}
	}
}

// HoldsWindows reports whether an operator holds results back until the
// watermark closes their window (EMIT ON WINDOW CLOSE), so drained bounded
// inputs need a final epoch with the watermark at +infinity.
func (d *Dataflow) HoldsWindows() bool {
	for _, n := range d.order {
		if h, ok := n.op.(interface{ HoldsWindows() bool }); ok && h.HoldsWindows() {
			return true
		}
	}
	return false
}

// Operators returns the dataflow's operators, inputs before consumers; the
// index of an operator is stable for a given plan (checkpoints use it).
func (d *Dataflow) Operators() []Operator {
	out := make([]Operator, len(d.order))
	for i, n := range d.order {
		out[i] = n.op
	}
	return out
}
