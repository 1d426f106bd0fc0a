package nar

import "strings"

// BuildAddressLine writes a row's street address on one line, the way
// Canada Post writes it: "101-123A Main St NW" (unit, civic number and
// suffix, street name, type, direction). In French the street type comes
// first, "123 rue Principale O": for types that only exist in French, and
// in Quebec for the types both languages share. A street name that starts
// with a number keeps the type after it ("12 1re Avenue"). Fields are used
// as published (no change of case), with runs of spaces collapsed.
func BuildAddressLine(a Address) string {
	var b strings.Builder
	b.Grow(64)
	unit, civic, suffix := squeeze(a.Unit), squeeze(a.CivicNo), squeeze(a.CivicSuffix)
	name, typ, dir := squeeze(a.StreetName), squeeze(a.StreetType), squeeze(a.StreetDir)

	if civic != "" {
		if unit != "" {
			b.WriteString(unit)
			b.WriteByte('-')
		}
		b.WriteString(civic)
		if suffix != "" {
			// "123A", but "123 1/2".
			if len(suffix) > 1 {
				b.WriteByte(' ')
			}
			b.WriteString(suffix)
		}
	}
	street := name
	if typ != "" {
		if typeFirst(typ, name, a.ProvCode) {
			street = join(typ, name)
		} else {
			street = join(name, typ)
		}
	}
	street = join(street, dir)
	line := join(b.String(), street)
	if civic == "" && unit != "" {
		// No civic number to hang the unit on: say what it is.
		line = join(line, "Unit "+unit)
	}
	return line
}

// quebec is the province code (Standard Geographical Classification) of Quebec.
const quebec = "24"

func typeFirst(typ, name, prov string) bool {
	if name != "" && name[0] >= '0' && name[0] <= '9' {
		return false
	}
	switch strings.ToUpper(typ) {
	// Only French.
	case "RUE", "CH", "CHEMIN", "MONTÉE", "MONTEE", "RANG", "CÔTE", "COTE", "IMP", "IMPASSE",
		"RUELLE", "ALLÉE", "ALLEE", "CARREF", "CARREFOUR", "CROIS", "CROISSANT", "BOUL",
		"AUT", "AUTOROUTE", "SENT", "SENTIER", "PROM", "RDPT", "ROND-POINT", "CAR", "CARRÉ", "CARRE":
		return true
	// Spelled the same in both languages: French order in Quebec.
	case "AV", "AVENUE", "BOULEVARD", "PLACE", "PL", "ROUTE", "RTE", "TERRASSE", "TSSE", "CERCLE",
		"COUR", "PARC", "PASSAGE", "PLATEAU", "POINTE", "QUAI", "VOIE", "PROMENADE":
		return prov == quebec
	}
	return false
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

// squeeze trims s and collapses inner runs of white space to one space,
// without allocating when there is nothing to change.
func squeeze(s string) string {
	s = strings.TrimSpace(s)
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\t' || c == '\n' || c == '\r' || (c == ' ' && i+1 < len(s) && s[i+1] == ' ') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
