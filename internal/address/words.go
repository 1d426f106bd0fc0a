package address

// The lookups below map how people and the National Address Register write
// street types, directions and ordinals to one canonical spelling each
// (Canada Post's symbols where it has one). Words a language shares keep
// one symbol (BOULEVARD is BLVD in French and English), words that differ
// stay apart (RUE is not ST), since a rue and a street of the same name in
// one town are different streets. They are switches rather than maps so
// that the package holds no mutable state.

// streetType holds every spelling of a street type, English and French.
func streetTypeLookup(w string) (string, bool) {
	switch w {
	case "STREET", "ST", "STR", "STRT":
		return "ST", true
	case "AVENUE", "AVE", "AV", "AVEN", "AVN":
		return "AVE", true
	case "ROAD", "RD":
		return "RD", true
	case "DRIVE", "DR", "DRV":
		return "DR", true
	case "BOULEVARD", "BLVD", "BOUL", "BLV", "BVD":
		return "BLVD", true
	case "CRESCENT", "CRES", "CRESC", "CRS", "CR":
		return "CRES", true
	case "COURT", "CRT", "CT":
		return "CRT", true
	case "PLACE", "PL":
		return "PL", true
	case "LANE", "LN":
		return "LANE", true
	case "WAY":
		return "WAY", true
	case "TRAIL", "TRL", "TR":
		return "TRAIL", true
	case "TERRACE", "TERR", "TER", "TRC":
		return "TERR", true
	case "CLOSE":
		return "CLOSE", true
	case "GATE", "GT":
		return "GATE", true
	case "CIRCLE", "CIR", "CIRCL":
		return "CIR", true
	case "HIGHWAY", "HWY":
		return "HWY", true
	case "PARKWAY", "PKY", "PKWY":
		return "PKY", true
	case "SQUARE", "SQ":
		return "SQ", true
	case "HEIGHTS", "HTS":
		return "HTS", true
	case "GROVE", "GRV":
		return "GROVE", true
	case "HILL":
		return "HILL", true
	case "PARK", "PK":
		return "PK", true
	case "POINT", "PT":
		return "PT", true
	case "RIDGE":
		return "RIDGE", true
	case "ROW":
		return "ROW", true
	case "LINE":
		return "LINE", true
	case "CONCESSION", "CONC":
		return "CONC", true
	case "SIDEROAD", "SDRD":
		return "SDRD", true
	case "LANDING", "LANDNG":
		return "LANDNG", true
	case "MEWS":
		return "MEWS", true
	case "PATH":
		return "PATH", true
	case "WALK":
		return "WALK", true
	case "GREEN":
		return "GREEN", true
	case "COMMON", "COMMONS":
		return "COMMON", true
	case "BAY":
		return "BAY", true
	case "COVE":
		return "COVE", true
	case "LOOP":
		return "LOOP", true
	case "LINK":
		return "LINK", true
	case "MANOR":
		return "MANOR", true
	case "ESPLANADE", "ESPL":
		return "ESPL", true
	case "PROMENADE", "PROM":
		return "PROM", true
	case "EXPRESSWAY", "EXPY":
		return "EXPY", true
	case "FREEWAY", "FWY":
		return "FWY", true
	case "ROUTE", "RTE":
		return "RTE", true
	case "RUE":
		return "RUE", true
	case "CHEMIN", "CH":
		return "CH", true
	case "MONTEE", "MTEE":
		return "MONTEE", true
	case "RANG":
		return "RANG", true
	case "IMPASSE", "IMP":
		return "IMP", true
	case "CROISSANT", "CROIS":
		return "CROIS", true
	case "COTE":
		return "COTE", true
	case "AUTOROUTE", "AUT":
		return "AUT", true
	case "RUELLE", "RLE":
		return "RLE", true
	case "CARRE", "CAR":
		return "CAR", true
	case "TERRASSE", "TSSE":
		return "TSSE", true
	case "ALLEE":
		return "ALLEE", true
	case "SENTIER", "SENT":
		return "SENT", true
	case "CERCLE":
		return "CERCLE", true
	case "QUAI":
		return "QUAI", true
	case "PLATEAU", "PLAT":
		return "PLAT", true
	}
	return "", false
}

// isLeadingType are the types French puts before the name ("rue
// Principale", "boulevard Saint-Laurent").
func isLeadingType(w string) bool {
	switch w {
	case "RUE", "CH", "BLVD", "AVE", "PL", "MONTEE", "RANG", "IMP", "CROIS", "COTE", "RTE", "AUT", "RLE", "CAR", "TSSE", "ALLEE", "PROM", "SENT", "CERCLE", "QUAI", "PLAT", "ESPL":
		return true
	}
	return false
}

// direction holds every spelling of a direction; words that are also
// common name words in the leading position are in trailingOnly.
func direction(w string) (string, bool) {
	switch w {
	case "N", "NORTH", "NORD":
		return "N", true
	case "S", "SOUTH", "SUD":
		return "S", true
	case "E", "EAST", "EST":
		return "E", true
	case "W", "WEST", "OUEST", "O":
		return "W", true
	case "NE", "NORTHEAST", "NORDEST":
		return "NE", true
	case "NW", "NORTHWEST", "NORDOUEST", "NO":
		return "NW", true
	case "SE", "SOUTHEAST", "SUDEST":
		return "SE", true
	case "SW", "SOUTHWEST", "SUDOUEST", "SO":
		return "SW", true
	}
	return "", false
}

// isTrailingOnly are direction spellings trusted only after the street name:
// "No. 3 Road" in Richmond is not "Northwest 3 Road".
func isTrailingOnly(w string) bool {
	switch w {
	case "O", "NO", "SO", "EST":
		return true
	}
	return false
}

// isUnitWord introduce a unit number, in English and French.
func isUnitWord(w string) bool {
	switch w {
	case "UNIT", "APT", "APARTMENT", "SUITE", "STE", "APP", "APPT", "APPARTEMENT", "BUREAU", "BUR", "UNITE", "LOGEMENT", "LOG", "ROOM", "RM", "NO", "NUMBER", "#":
		return true
	}
	return false
}

// ordinal spells out numbered streets; "First Avenue", "1st Ave" and
// "1re Avenue" all become "1".
func ordinal(w string) (string, bool) {
	switch w {
	case "FIRST", "PREMIER", "PREMIERE":
		return "1", true
	case "SECOND", "DEUXIEME":
		return "2", true
	case "THIRD", "TROISIEME":
		return "3", true
	case "FOURTH", "QUATRIEME":
		return "4", true
	case "FIFTH", "CINQUIEME":
		return "5", true
	case "SIXTH", "SIXIEME":
		return "6", true
	case "SEVENTH", "SEPTIEME":
		return "7", true
	case "EIGHTH", "HUITIEME":
		return "8", true
	case "NINTH", "NEUVIEME":
		return "9", true
	case "TENTH", "DIXIEME":
		return "10", true
	case "ELEVENTH":
		return "11", true
	case "TWELFTH":
		return "12", true
	case "THIRTEENTH":
		return "13", true
	case "FOURTEENTH":
		return "14", true
	case "FIFTEENTH":
		return "15", true
	case "SIXTEENTH":
		return "16", true
	case "SEVENTEENTH":
		return "17", true
	case "EIGHTEENTH":
		return "18", true
	case "NINETEENTH":
		return "19", true
	case "TWENTIETH":
		return "20", true
	}
	return "", false
}

// nameWord are abbreviations inside a street name.
func nameWord(w string) (string, bool) {
	switch w {
	case "ST":
		return "SAINT", true
	case "STE":
		return "SAINTE", true
	case "MT":
		return "MOUNT", true
	case "FT":
		return "FORT", true
	}
	return "", false
}

// isOrdinalSuffix follow the digits of a numbered street: 1st, 2nd, 3rd,
// 4th; French 1er, 1re, 1ère, 2e, 2ème.
func isOrdinalSuffix(w string) bool {
	switch w {
	case "ST", "ND", "RD", "TH", "E", "EME", "IEME", "ER", "RE", "ERE":
		return true
	}
	return false
}

// isProvince are dropped when a typed address runs on into its locality.
func isProvince(w string) bool {
	switch w {
	case "AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT", "PQ", "ALBERTA", "MANITOBA", "ONTARIO", "QUEBEC", "SASKATCHEWAN", "YUKON", "NUNAVUT", "CANADA":
		return true
	}
	return false
}

// compassPair joins two-word directions ("Nord Est", "North West") once
// each word has been read as a direction.
func compassPair(a, b string) (string, bool) {
	switch a + " " + b {
	case "N E":
		return "NE", true
	case "N W":
		return "NW", true
	case "S E":
		return "SE", true
	case "S W":
		return "SW", true
	}
	return "", false
}
