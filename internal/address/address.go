// Package address turns Canadian street addresses, as people type them and
// as the National Address Register stores them, into a comparable key: the
// `nar` geocoder matches a typed address to a register row by key, and the
// import computes the same key for every row it loads.
package address

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Key is the comparable part of an address: two spellings of one door
// give equal keys. Every field is upper case with accents stripped.
type Key struct {
	Civic     string // civic number without leading zeros: "123"
	Suffix    string // civic suffix: "A", "1/2"
	Street    string // street name, words single-spaced, ordinals as digits, ST as SAINT: "SAINT CLAIR", "1"
	Type      string // canonical street type: "ST", "AVE", "RUE", "CH"
	Direction string // "N", "NE", …
	Unit      string // unit, suite or apartment: "101", "4B"
}

// String joins the fields with "|" (a character no field holds), for a
// database column or a map key.
func (k Key) String() string {
	return k.Civic + "|" + k.Suffix + "|" + k.Street + "|" + k.Type + "|" + k.Direction + "|" + k.Unit
}

// Building is the key of the building the address is in: the same key
// without the unit.
func (k Key) Building() Key {
	k.Unit = ""
	return k
}

// Address is a parsed address: its key and, when one was given, its postal
// code.
type Address struct {
	Key
	PostalCode string // "K1A0B1", or "" when none was found
}

// PostalCode normalises a Canadian postal code to six characters, upper
// case, no space ("k1a 0b1" → "K1A0B1"). Anything else gives "".
func PostalCode(s string) string {
	var b [6]byte
	n := 0
	for _, r := range fold(s) {
		if r == ' ' || r == '-' {
			continue
		}
		if n == 6 {
			return ""
		}
		b[n] = byte(r)
		n++
	}
	if n != 6 || !isPostal(string(b[:])) {
		return ""
	}
	return string(b[:])
}

func isPostal(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		c := s[i]
		if i%2 == 0 && (c < 'A' || c > 'Z') || i%2 == 1 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// fold upper-cases s and strips accents ("Côte-Saint-Luc" → "COTE-SAINT-LUC").
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'œ' || r == 'Œ':
			b.WriteString("OE")
		case r == 'æ' || r == 'Æ':
			b.WriteString("AE")
		case r == 'ß':
			b.WriteString("SS")
		default:
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// tokenize splits folded text into comma-separated segments of words.
// Periods and apostrophes vanish inside a word ("St." → "ST", "O'Connor" →
// "OCONNOR"); "#" is a word of its own; "-" and "/" stay inside a word for
// the civic-number forms and are split later elsewhere.
func tokenize(s string) [][]string {
	var segs [][]string
	var cur []string
	start := -1
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			cur = append(cur, word.String())
			word.Reset()
		}
		start = -1
	}
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '/' || r > unicode.MaxASCII && unicode.IsLetter(r):
			if start < 0 {
				start = i
			}
			word.WriteRune(r)
		case r == '.' || r == '\'' || r == '’' || r == '`':
		case r == '#':
			flush()
			cur = append(cur, "#")
		case r == ',' || r == ';' || r == '\n':
			flush()
			if len(cur) > 0 {
				segs = append(segs, cur)
				cur = nil
			}
		default:
			flush()
		}
	}
	flush()
	if len(cur) > 0 {
		segs = append(segs, cur)
	}
	return segs
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func allDigits(ws []string) bool {
	for _, w := range ws {
		if !isDigits(w) {
			return false
		}
	}
	return len(ws) > 0
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

// civicNumber drops leading zeros ("0012" → "12").
func civicNumber(s string) string {
	t := strings.TrimLeft(s, "0")
	if t == "" && s != "" {
		return "0"
	}
	return t
}

// unitLabel cleans a unit: no "#", "-" or spaces, designator words dropped.
func unitLabel(s string) string {
	var parts []string
	for _, seg := range tokenize(fold(s)) {
		for _, w := range seg {
			if isUnitWord(w) && w != "NO" || w == "#" {
				continue
			}
			parts = append(parts, strings.ReplaceAll(w, "-", ""))
		}
	}
	return civicNumberIfDigits(strings.Join(parts, ""))
}

func civicNumberIfDigits(s string) string {
	if isDigits(s) {
		return civicNumber(s)
	}
	return s
}

// Parse reads an address as typed: "Unit 101, 123 Main St. N, Ottawa ON
// K1A 0B1", "101-123 Main Street North", "123, rue Saint-Denis, app. 4",
// "#101 123 First Ave". A part it cannot find is left empty; it never
// fails.
func Parse(s string) Address {
	var a Address
	segs := tokenize(fold(s))

	// The postal code may sit anywhere, as one word or two.
	for si := len(segs) - 1; si >= 0 && a.PostalCode == ""; si-- {
		seg := segs[si]
		for i := len(seg) - 1; i >= 0; i-- {
			if w := strings.ReplaceAll(seg[i], "-", ""); isPostal(w) {
				a.PostalCode = w
				segs[si] = append(seg[:i:i], seg[i+1:]...)
				break
			}
			if i > 0 && len(seg[i-1]) == 3 && len(seg[i]) == 3 && isPostal(seg[i-1]+seg[i]) {
				a.PostalCode = seg[i-1] + seg[i]
				segs[si] = append(seg[:i-1:i-1], seg[i+1:]...)
				break
			}
		}
	}

	// Units are introduced by a word ("Apt 4", "#101", "app. 4") wherever
	// they stand.
	for si, seg := range segs {
		out := seg[:0:0]
		for i := 0; i < len(seg); i++ {
			w := seg[i]
			if w == "#" && i+1 < len(seg) && strings.Contains(seg[i+1], "-") {
				// "#101-123 Main St": the unit-civic form, read below.
				continue
			}
			if isUnitWord(w) && w != "#" && i+2 < len(seg) && seg[i+1] == "#" {
				// "Suite #400"
				i++
			}
			if isUnitWord(w) && i+1 < len(seg) && (w != "STE" && w != "NO" || hasDigit(seg[i+1])) {
				if w == "NO" && i+2 < len(seg) && !isUnitWord(seg[i+2]) {
					// "No. 3 Road" is a street, not a unit.
					out = append(out, w)
					continue
				}
				if a.Unit == "" {
					a.Unit = unitLabel(seg[i+1])
				}
				i++
				continue
			}
			if w == "#" {
				continue
			}
			out = append(out, w)
		}
		segs[si] = out
	}

	// The street line is the first segment that starts with a number; a
	// number alone ("1234, rue Saint-Denis") joins the segment after it.
	var street []string
	for si, seg := range segs {
		if len(seg) > 0 && hasDigit(seg[0]) {
			street = seg
			if len(seg) == 1 && si+1 < len(segs) {
				street = append(seg[:1:1], segs[si+1]...)
			}
			break
		}
	}
	if street == nil {
		for _, seg := range segs {
			if len(seg) > 0 {
				street = seg
				break
			}
		}
	}
	if len(street) == 0 {
		return a
	}

	rest := a.civic(street)
	a.streetPart(rest)
	return a
}

// civic reads the civic number, its suffix and a unit written before it
// ("101-123"), and returns the words after it.
func (a *Address) civic(words []string) []string {
	first := words[0]
	rest := words[1:]
	if !hasDigit(first) {
		return words
	}
	num, tail := first, ""
	if i := strings.IndexByte(first, '-'); i >= 0 {
		left, right := first[:i], first[i+1:]
		switch {
		case right == "":
			num = left
		case isDigits(strings.TrimRightFunc(right, isUpper)):
			// "101-123": unit 101 at civic 123 (Canada Post's order);
			// "A-123" and "B2-123" likewise.
			if a.Unit == "" {
				a.Unit = civicNumberIfDigits(strings.ReplaceAll(left, "-", ""))
			}
			num = right
		default:
			// "123-A": a suffix.
			num, tail = left, right
		}
	}
	// Split trailing letters into the suffix: "123A".
	j := 0
	for j < len(num) && num[j] >= '0' && num[j] <= '9' {
		j++
	}
	if j == 0 {
		return words
	}
	a.Civic = civicNumber(num[:j])
	a.Suffix = num[j:] + tail
	if a.Suffix == "" && len(rest) > 1 {
		if rest[0] == "1/2" {
			a.Suffix = "1/2"
			rest = rest[1:]
		} else if len(rest[0]) == 1 && rest[0][0] >= 'A' && rest[0][0] <= 'Z' {
			if _, dir := direction(rest[0]); !dir {
				a.Suffix = rest[0]
				rest = rest[1:]
			}
		}
	}
	return rest
}

func isUpper(r rune) bool { return r >= 'A' && r <= 'Z' }

// streetPart finds the type, direction and name in the words after the
// civic number, and drops a locality or province run on after them.
func (a *Address) streetPart(words []string) {
	var toks []string
	for _, w := range words {
		for _, p := range strings.Split(w, "-") {
			if p != "" && p != "/" {
				toks = append(toks, p)
			}
		}
	}
	for len(toks) > 0 && isProvince(toks[len(toks)-1]) && len(toks) > 2 {
		toks = toks[:len(toks)-1]
	}
	// A bare number after the type or direction is a unit: "123 Main St 4".
	if n := len(toks); n > 2 && isDigits(toks[n-1]) && a.Unit == "" {
		_, typ := streetTypeLookup(toks[n-2])
		_, dir := direction(toks[n-2])
		if typ || dir {
			a.Unit = civicNumber(toks[n-1])
			toks = toks[:n-1]
		}
	}
	toks = a.trailingDirection(toks)
	if n := len(toks); n >= 2 {
		if t, ok := streetTypeLookup(toks[n-1]); ok {
			a.Type = t
			toks = toks[:n-1]
		} else if t, ok := streetTypeLookup(toks[0]); ok && (isLeadingType(t) || allDigits(toks[1:])) {
			// "rue Principale", and numbered roads: "Highway 7", "Concession 6".
			a.Type = t
			toks = toks[1:]
		} else {
			// "123 Main St Ottawa": the rightmost type with a name before
			// it ends the street; a direction may follow, the rest is the
			// town.
			for i := n - 2; i >= 1; i-- {
				if t, ok := streetTypeLookup(toks[i]); ok {
					after := toks[i+1:]
					a.Type = t
					toks = toks[:i]
					if d, ok := direction(after[0]); ok && a.Direction == "" {
						a.Direction = d
						if len(after) > 1 {
							if d2, ok := direction(after[1]); ok {
								if p, ok := compassPair(d, d2); ok {
									a.Direction = p
								}
							}
						}
					}
					break
				}
			}
		}
	}
	// A leading direction: "123 W Hastings St".
	if a.Direction == "" && len(toks) >= 2 && !isTrailingOnly(toks[0]) {
		if d, ok := direction(toks[0]); ok {
			a.Direction = d
			toks = toks[1:]
		}
	}
	a.Street = streetName(toks)
}

// trailingDirection takes a direction, one word or two ("Nord Est"), off
// the end when a street name remains before it.
func (a *Address) trailingDirection(toks []string) []string {
	n := len(toks)
	if n >= 3 {
		d1, ok1 := direction(toks[n-2])
		d2, ok2 := direction(toks[n-1])
		if ok1 && ok2 {
			if p, ok := compassPair(d1, d2); ok && !onlyType(toks[:n-2]) {
				a.Direction = p
				return toks[:n-2]
			}
		}
	}
	if n >= 2 {
		if d, ok := direction(toks[n-1]); ok && !onlyType(toks[:n-1]) {
			a.Direction = d
			return toks[:n-1]
		}
	}
	return toks
}

// onlyType reports whether toks is a lone street type, which cannot stand
// without a name: in "Rue Nord" the direction is the name.
func onlyType(toks []string) bool {
	if len(toks) != 1 {
		return len(toks) == 0
	}
	_, ok := streetTypeLookup(toks[0])
	return ok
}

// streetName spells the name's words one way: ordinals as digits, ST as
// SAINT, MT as MOUNT.
func streetName(toks []string) string {
	out := make([]string, 0, len(toks))
	for _, w := range toks {
		if v, ok := ordinal(w); ok {
			w = v
		} else if v, ok := nameWord(w); ok {
			w = v
		} else if i := digitPrefix(w); i > 0 && i < len(w) && isOrdinalSuffix(w[i:]) {
			w = civicNumber(w[:i])
		} else if isDigits(w) {
			w = civicNumber(w)
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

func digitPrefix(w string) int {
	i := 0
	for i < len(w) && w[i] >= '0' && w[i] <= '9' {
		i++
	}
	return i
}

// FromParts builds the key of a register row from its separate columns
// (the NAR's CIVIC_NO, CIVIC_NO_SUFFIX, OFFICIAL_STREET_NAME,
// OFFICIAL_STREET_TYPE, OFFICIAL_STREET_DIR, APT_NO_LABEL), spelling each
// part as Parse does so that rows and typed addresses meet.
func FromParts(civic, suffix, street, streetType, dir, unit string) Key {
	var k Key
	k.Civic = civicNumber(strings.TrimSpace(civic))
	k.Suffix = strings.ReplaceAll(strings.ReplaceAll(fold(strings.TrimSpace(suffix)), " ", ""), "-", "")
	var toks []string
	for _, seg := range tokenize(fold(street)) {
		for _, w := range seg {
			for _, p := range strings.Split(w, "-") {
				if p != "" {
					toks = append(toks, p)
				}
			}
		}
	}
	k.Street = streetName(toks)
	k.Type = canonical(streetType, streetTypeLookup)
	k.Direction = canonical(dir, direction)
	if strings.TrimSpace(unit) != "" {
		k.Unit = unitLabel(unit)
	}
	return k
}

// canonical looks a one- or two-word column value up in a table, falling
// back to the folded text itself.
func canonical(s string, lookup func(string) (string, bool)) string {
	f := strings.Join(strings.FieldsFunc(fold(s), func(r rune) bool {
		return r == ' ' || r == '-' || r == '.'
	}), "")
	if f == "" {
		return ""
	}
	if v, ok := lookup(f); ok {
		return v
	}
	return f
}
