package lists

import (
	"fmt"
	"regexp/syntax"
	"slices"
	"strings"
)

// maxDFAStates bounds the automaton built from one number pattern. Phone
// patterns are short and digit strings at most 17 long, so real patterns
// stay in the hundreds; a pattern past the bound leaves the fast path off.
const maxDFAStates = 1 << 14

// digitDFA is a deterministic automaton over the ten ASCII digits, built
// from one of libphonenumber's number patterns. Running it is one table
// lookup per digit, where a regexp match costs a few hundred nanoseconds:
// that is what lets the phone fast path keep up with an import.
type digitDFA struct {
	next   [][10]int32 // next[state][digit]; deadState when nothing matches
	accept []bool      // the pattern matches the digits consumed so far
}

const deadState = -1

// full reports whether the pattern matches all of s (s holds only digits
// for a match to be possible), like regexp's "^(?:pattern)$".
func (d *digitDFA) full(s string) bool {
	st := int32(0)
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return false
		}
		if st = d.next[st][c]; st == deadState {
			return false
		}
	}
	return d.accept[st]
}

// prefix reports whether the pattern matches some prefix of s, like
// regexp's "^(?:pattern)" without a "$".
func (d *digitDFA) prefix(s string) bool {
	st := int32(0)
	for i := 0; ; i++ {
		if d.accept[st] {
			return true
		}
		if i == len(s) || s[i]-'0' > 9 {
			return false
		}
		if st = d.next[st][s[i]-'0']; st == deadState {
			return false
		}
	}
}

// compileDigitDFA builds the automaton of pattern (Perl syntax, as in
// libphonenumber's metadata) by subset construction over regexp/syntax's
// program. Patterns with assertions (^, $, \b) are refused: the callers
// anchor the match themselves.
func compileDigitDFA(pattern string) (*digitDFA, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("number pattern %q: %w", pattern, err)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, fmt.Errorf("number pattern %q: %w", pattern, err)
	}
	b := &dfaBuilder{prog: prog, index: map[string]int32{}, dfa: &digitDFA{}}
	b.state(b.closure([]uint32{uint32(prog.Start)}))
	for st := 0; st < len(b.sets) && b.err == nil; st++ {
		for digit := range 10 {
			b.dfa.next[st][digit] = b.step(b.sets[st], rune('0'+digit))
		}
	}
	if b.err != nil {
		return nil, fmt.Errorf("number pattern %q: %w", pattern, b.err)
	}
	return b.dfa, nil
}

// unionPattern joins patterns into one that matches what any of them does.
func unionPattern(patterns []string) string {
	parts := make([]string, len(patterns))
	for i, p := range patterns {
		parts[i] = "(?:" + p + ")"
	}
	return strings.Join(parts, "|")
}

type dfaBuilder struct {
	prog  *syntax.Prog
	index map[string]int32 // state key → state number
	sets  [][]uint32       // state number → program counters it stands for
	dfa   *digitDFA
	err   error
}

// state returns the number of the state standing for set, adding it when
// new. The empty set is the dead state.
func (b *dfaBuilder) state(set []uint32) int32 {
	if len(set) == 0 {
		return deadState
	}
	key := setKey(set)
	if n, ok := b.index[key]; ok {
		return n
	}
	if len(b.sets) >= maxDFAStates {
		b.err = fmt.Errorf("more than %d automaton states", maxDFAStates)
		return deadState
	}
	n := int32(len(b.sets))
	b.index[key] = n
	b.sets = append(b.sets, set)
	b.dfa.next = append(b.dfa.next, [10]int32{})
	b.dfa.accept = append(b.dfa.accept, b.matches(set))
	return n
}

func (b *dfaBuilder) matches(set []uint32) bool {
	for _, pc := range set {
		if b.prog.Inst[pc].Op == syntax.InstMatch {
			return true
		}
	}
	return false
}

// step returns the state reached from set on rune r.
func (b *dfaBuilder) step(set []uint32, r rune) int32 {
	var targets []uint32
	for _, pc := range set {
		inst := &b.prog.Inst[pc]
		if inst.Op != syntax.InstMatch && inst.MatchRune(r) {
			targets = append(targets, inst.Out)
		}
	}
	return b.state(b.closure(targets))
}

// closure follows the empty moves from pcs and returns the sorted set of
// instructions that consume a rune or match.
func (b *dfaBuilder) closure(pcs []uint32) []uint32 {
	seen := make(map[uint32]bool)
	var out []uint32
	stack := append([]uint32(nil), pcs...)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		inst := &b.prog.Inst[pc]
		switch inst.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, inst.Out, inst.Arg)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, inst.Out)
		case syntax.InstFail:
		case syntax.InstEmptyWidth:
			b.err = fmt.Errorf("assertions are not supported")
		default: // InstMatch and the rune instructions
			out = append(out, pc)
		}
	}
	slices.Sort(out)
	return out
}

func setKey(set []uint32) string {
	var sb strings.Builder
	for _, pc := range set {
		sb.WriteByte(byte(pc))
		sb.WriteByte(byte(pc >> 8))
		sb.WriteByte(byte(pc >> 16))
	}
	return sb.String()
}
